package io.hprobe.core.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import io.hprobe.core.protocol.AgentException;

/**
 * Probe sets as files (docs/probesets.md) for the workbench, through the hprobe CLI: it owns the format, its
 * checks (every error by line and member) and the applying that takes back a half-applied set, so the
 * workbench and a script read a set alike. {@code hprobe --socket S --json probe load VM FILE} and
 * {@code hprobe --socket S probe save VM FILE}; blocking: call from a job.
 *
 * @param cli the hprobe executable
 */
public record ProbeSetFiles(Path cli) {

    /** Error class of a set the CLI refused (its stderr is the message). */
    public static final String REFUSED = "ProbeSetRefused"; //$NON-NLS-1$
    private static final long TIMEOUT_S = 300;

    /** What a loaded set added, by id. */
    public record Loaded(List<Integer> probes, List<Integer> detectors) {
    }

    /**
     * The CLI to use: $HPROBE_CLI, else hprobe beside the agent binary (they are built and installed
     * together), else hprobe on PATH. Null if none exists.
     */
    public static @Nullable ProbeSetFiles find(@Nullable Path agentBinary) {
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("HPROBE_CLI"); //$NON-NLS-1$
        if (env != null && !env.isBlank()) {
            candidates.add(Path.of(env));
        }
        if (agentBinary != null) {
            candidates.add(agentBinary.resolveSibling("hprobe")); //$NON-NLS-1$
        }
        String path = System.getenv("PATH"); //$NON-NLS-1$
        for (String dir : path == null ? new String[0] : path.split(":")) { //$NON-NLS-1$
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "hprobe")); //$NON-NLS-1$
            }
        }
        for (Path p : candidates) {
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return new ProbeSetFiles(p);
            }
        }
        return null;
    }

    /** Applies the set in file to vm; a refused set is taken back whole by the CLI (its errors are the message). */
    public Loaded load(Path socket, String vm, Path file) throws AgentException {
        String out = run(socket, "--json", "probe", "load", vm, file.toString()); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        try {
            JsonObject o = JsonParser.parseString(out).getAsJsonObject();
            return new Loaded(ids(o.get("probes")), ids(o.get("detectors"))); //$NON-NLS-1$ //$NON-NLS-2$
        } catch (JsonParseException | IllegalStateException e) {
            throw new AgentException(AgentException.PROTOCOL, "hprobe probe load printed no ids: " + out, e); //$NON-NLS-1$
        }
    }

    /** Writes vm's probes and detectors as a set to file; returns the CLI's line saying what it wrote. */
    public String save(Path socket, String vm, Path file) throws AgentException {
        return run(socket, "probe", "save", vm, file.toString()).strip(); //$NON-NLS-1$ //$NON-NLS-2$
    }

    private static List<Integer> ids(@Nullable JsonElement e) {
        List<Integer> out = new ArrayList<>();
        if (e != null && e.isJsonArray()) {
            e.getAsJsonArray().forEach(x -> out.add(x.getAsInt()));
        }
        return List.copyOf(out);
    }

    /** Runs the CLI; its stdout on success (the save's summary goes to stderr: returned when stdout is empty). */
    private String run(Path socket, String... args) throws AgentException {
        List<String> cmd = new ArrayList<>(List.of(cli.toString(), "--socket", socket.toString())); //$NON-NLS-1$
        cmd.addAll(List.of(args));
        try {
            Path err = Files.createTempFile("hprobe-set", ".err"); //$NON-NLS-1$ //$NON-NLS-2$
            try {
                Process p = new ProcessBuilder(cmd)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))) //$NON-NLS-1$
                        .redirectError(err.toFile()).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AgentException(AgentException.NO_REPLY, "hprobe " + String.join(" ", args) //$NON-NLS-1$ //$NON-NLS-2$
                            + ": no answer in " + TIMEOUT_S + " s", (JsonElement) null); //$NON-NLS-1$ //$NON-NLS-2$
                }
                String stderr = Files.readString(err, StandardCharsets.UTF_8).strip();
                if (p.exitValue() != 0) {
                    throw new AgentException(REFUSED, stderr.isEmpty() ? "hprobe exited " + p.exitValue() : stderr, //$NON-NLS-1$
                            (JsonElement) null);
                }
                String stdout = new String(out, StandardCharsets.UTF_8);
                return stdout.isBlank() ? stderr : stdout;
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AgentException(AgentException.DISCONNECTED, cli + ": " + e.getMessage(), e); //$NON-NLS-1$
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(AgentException.NO_REPLY, "interrupted", e); //$NON-NLS-1$
        }
    }
}
