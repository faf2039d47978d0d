package io.hprobe.core.model;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.concurrent.CompletionException;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.hprobe.core.journal.ProgressSink;
import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.protocol.Json;

/**
 * A live VM's journal where this process can read it: the agent's own file when the agent shares this host's
 * files, else a copy read through the protocol (journal-read, docs/protocol.md), as the file was when the copy
 * began (the VM records on; a batch half-written at its end is a damaged tail, which readers skip). A socket
 * forwarded by hand looks local: the agent's boot id tells another host.
 */
public final class JournalCopy {

    /** Local error class: the user stopped the copy. */
    public static final String CANCELLED = "Cancelled"; //$NON-NLS-1$

    private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id"); //$NON-NLS-1$

    private JournalCopy() {
    }

    /** This host's boot id, or "" when it cannot be read. */
    static String ourBootId() {
        try {
            return Files.readString(BOOT_ID, StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            return ""; //$NON-NLS-1$
        }
    }

    /** Whether the agent's path is a file of this host: no SSH tunnel, the same boot, and readable here. */
    public static boolean sharesFiles(Agent agent, String path) {
        if (agent.isRemote()) {
            return false;
        }
        String theirs = Json.str(agent.info(), "boot_id", ""); //$NON-NLS-1$ //$NON-NLS-2$
        try {
            return (theirs.isEmpty() || theirs.equals(ourBootId())) && Files.isReadable(Path.of(path));
        } catch (InvalidPathException e) {
            return false; // the agent's words (a NUL in it): no path here
        }
    }

    /**
     * The VM's journal as a local path: its own when {@link #sharesFiles}, else a copy in dir (named as the
     * agent names it, never a directory), which appears only once whole. Blocking.
     */
    public static Path local(Vm vm, Path dir, ProgressSink progress) throws AgentException {
        Agent agent = vm.agent();
        String journal = vm.info().journal();
        if (agent == null || journal == null) {
            throw new AgentException(AgentException.DISCONNECTED, vm.name() + ": no agent holds its journal", //$NON-NLS-1$
                    (JsonElement) null);
        }
        if (sharesFiles(agent, journal)) {
            return Path.of(journal);
        }
        String n = fileName(journal);
        Path local = dir.resolve(n.isEmpty() || ".".equals(n) || "..".equals(n) ? "journal.hpj" : n); //$NON-NLS-1$ //$NON-NLS-2$ //$NON-NLS-3$
        Path part = local.resolveSibling(local.getFileName() + ".part"); //$NON-NLS-1$
        try {
            try (OutputStream out = Files.newOutputStream(part)) {
                copy(agent, vm, out, progress);
            }
            Files.move(part, local, StandardCopyOption.REPLACE_EXISTING);
            return local;
        } catch (IOException e) {
            throw new AgentException(AgentException.DISCONNECTED, "cannot write " + local + ": " + e.getMessage(), e); //$NON-NLS-1$ //$NON-NLS-2$
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException e) {
                // the copy failed already; a stray .part says so
            }
        }
    }

    /** The last element of the agent's path, or "" when it has none here. */
    private static String fileName(String path) {
        try {
            Path name = Path.of(path).getFileName();
            return name == null ? "" : name.toString(); //$NON-NLS-1$
        } catch (InvalidPathException e) {
            return ""; //$NON-NLS-1$
        }
    }

    private static void copy(Agent agent, Vm vm, OutputStream out, ProgressSink progress)
            throws AgentException, IOException {
        long off = 0;
        long size = -1;
        do {
            if (progress.isCancelled()) {
                throw new AgentException(CANCELLED, "copy of " + vm.name() + "'s journal cancelled", //$NON-NLS-1$ //$NON-NLS-2$
                        (JsonElement) null);
            }
            JsonObject a = new JsonObject();
            a.addProperty("vm", vm.name()); //$NON-NLS-1$
            a.addProperty("offset", off); //$NON-NLS-1$
            JsonObject r = AgentSession.asObject(await(agent, "journal-read", a)); //$NON-NLS-1$
            byte[] b;
            try {
                b = HexFormat.of().parseHex(Json.str(r, "data", "")); //$NON-NLS-1$ //$NON-NLS-2$
            } catch (IllegalArgumentException e) {
                throw new AgentException(AgentException.PROTOCOL, "journal-read: data is not hex", e); //$NON-NLS-1$
            }
            if (size < 0) {
                size = Math.max(0, Json.lng(r, "size", 0)); //$NON-NLS-1$
            }
            if (Json.lng(r, "offset", -1) != off) { //$NON-NLS-1$
                throw new AgentException(AgentException.PROTOCOL, "journal-read: asked for offset " + off //$NON-NLS-1$
                        + ", got " + Json.lng(r, "offset", -1), (JsonElement) null); //$NON-NLS-1$ //$NON-NLS-2$
            }
            if (b.length == 0) {
                break; // the file is shorter than it was (a new journal): what there is
            }
            int keep = (int) Math.min(b.length, size - off); // not past the first reply's end
            out.write(b, 0, keep);
            off += keep;
            progress.progress(off, size);
        } while (off < size);
    }

    private static JsonElement await(Agent agent, String command, JsonObject args) throws AgentException {
        try {
            return agent.call(command, args).join();
        } catch (CompletionException e) {
            AgentException ae = AgentException.unwrap(e);
            if (ae != null) {
                throw ae;
            }
            throw new AgentException(AgentException.NO_REPLY, command + ": " + e.getMessage(), e); //$NON-NLS-1$
        }
    }
}
