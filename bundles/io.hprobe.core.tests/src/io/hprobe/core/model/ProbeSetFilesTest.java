package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.hprobe.core.protocol.AgentException;

/**
 * How the workbench runs the CLI for probe set files, against stand-ins for hprobe that answer as it does
 * (docs/probesets.md): the ids it printed, its refusal as the message, its arguments.
 */
@NonNullByDefault({})
class ProbeSetFilesTest {

    @TempDir
    Path dir;

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        return p;
    }

    @Test
    void loadReturnsTheIdsTheCliPrinted() throws Exception {
        Path args = dir.resolve("args");
        ProbeSetFiles f = new ProbeSetFiles(
                script("hprobe", "echo \"$@\" > " + args + "; echo '{\"probes\":[7,9],\"detectors\":[2]}'"));
        ProbeSetFiles.Loaded l = f.load(Path.of("/run/s.sock"), "lab", Path.of("/tmp/set.json"));
        assertEquals(List.of(7, 9), l.probes());
        assertEquals(List.of(2), l.detectors());
        assertEquals("--socket /run/s.sock --json probe load lab /tmp/set.json",
                Files.readString(args, StandardCharsets.UTF_8).strip());
    }

    @Test
    void aRefusalIsTheCliMessage() throws Exception {
        ProbeSetFiles f = new ProbeSetFiles(script("hprobe",
                "echo 'set.json:3: probes[1].if: InvalidArgument: --if: column 1: unknown name' >&2; exit 1"));
        AgentException e = assertThrows(AgentException.class, () -> f.load(Path.of("/s"), "lab", Path.of("set.json")));
        assertEquals(ProbeSetFiles.REFUSED, e.errorClass());
        assertEquals("set.json:3: probes[1].if: InvalidArgument: --if: column 1: unknown name", e.desc());
        // no ids printed at all: said so, not a crash
        ProbeSetFiles mute = new ProbeSetFiles(script("mute", "exit 0"));
        assertThrows(AgentException.class, () -> mute.load(Path.of("/s"), "lab", Path.of("set.json")));
    }

    @Test
    void saveReturnsWhatItWrote() throws Exception {
        ProbeSetFiles f = new ProbeSetFiles(
                script("hprobe", "echo '2 probes and 0 detectors of VM lab written to s.json' >&2"));
        assertEquals("2 probes and 0 detectors of VM lab written to s.json",
                f.save(Path.of("/s"), "lab", Path.of("s.json")));
    }

    @Test
    void theCliBesideTheAgent() throws Exception {
        Path agent = script("hprobed", "exit 0");
        Path cli = script("hprobe", "exit 0");
        ProbeSetFiles found = ProbeSetFiles.find(agent);
        assertTrue(found != null && (found.cli().equals(cli) || System.getenv("HPROBE_CLI") != null), "beside hprobed");
    }
}
