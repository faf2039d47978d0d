package io.hprobe.core.protocol;

import org.eclipse.jdt.annotation.NonNullByDefault;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A tiny hprobed stand-in for client and model tests: a Unix socket server that greets, answers each
 * command through a handler, records what it was sent, and can push events or drop clients.
 */
@NonNullByDefault({})
public final class FakeAgent implements AutoCloseable {

    /** Thrown by a handler to answer with an error. */
    public static final class Fail extends RuntimeException {

        private static final long serialVersionUID = 1L;
        final String cls;

        public Fail(String cls, String desc) {
            super(desc);
            this.cls = cls;
        }
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final List<SocketChannel> clients = new CopyOnWriteArrayList<>();
    private final Map<String, BiFunction<JsonObject, Integer, JsonElement>> handlers = new ConcurrentHashMap<>();
    private final List<JsonObject> received = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile int protocol = 1;

    public FakeAgent(Path dir) throws IOException {
        socket = dir.resolve("fake.sock");
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        acceptor = new Thread(this::acceptLoop, "fake agent");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public Path socket() {
        return socket;
    }

    public void setProtocol(int p) {
        protocol = p;
    }

    /** handler(arguments, connection number) -> return value; throw Fail for an error reply. */
    public void on(String command, BiFunction<JsonObject, Integer, JsonElement> handler) {
        handlers.put(command, handler);
    }

    public List<JsonObject> received() {
        return new ArrayList<>(received);
    }

    /** The arguments of every command of that name received so far. */
    public List<JsonObject> received(String command) {
        List<JsonObject> out = new ArrayList<>();
        for (JsonObject o : received) {
            if (command.equals(o.get("execute").getAsString())) {
                out.add(o.has("arguments") ? o.getAsJsonObject("arguments") : new JsonObject());
            }
        }
        return out;
    }

    public int clientCount() {
        return clients.size();
    }

    private void acceptLoop() {
        int n = 0;
        while (server.isOpen()) {
            try {
                SocketChannel c = server.accept();
                clients.add(c);
                int conn = ++n;
                send(c, "{\"hprobe\":{\"version\":\"0.1.0\",\"protocol\":" + protocol
                        + ",\"pid\":1,\"capabilities\":[\"hit-batches\",\"resume\",\"detectors\",\"events\"]}}");
                Thread t = new Thread(() -> serve(c, conn), "fake agent client " + conn);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel c, int conn) {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        StringBuilder line = new StringBuilder();
        try {
            while (c.read(buf) >= 0) {
                buf.flip();
                line.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
                int nl;
                while ((nl = line.indexOf("\n")) >= 0) {
                    String l = line.substring(0, nl);
                    line.delete(0, nl + 1);
                    JsonObject msg = JsonParser.parseString(l).getAsJsonObject();
                    received.add(msg);
                    // each command on its own thread, like the agent's VM jobs: replies may overtake
                    Thread t = new Thread(() -> {
                        try {
                            handle(c, conn, msg);
                        } catch (IOException | RuntimeException e) {
                            // client gone
                        }
                    }, "fake agent command");
                    t.setDaemon(true);
                    t.start();
                }
            }
        } catch (IOException | RuntimeException e) {
            // client gone
        }
        clients.remove(c);
    }

    private void handle(SocketChannel c, int conn, JsonObject msg) throws IOException {
        String cmd = msg.get("execute").getAsString();
        JsonElement id = msg.get("id");
        JsonObject args = msg.has("arguments") ? msg.getAsJsonObject("arguments") : new JsonObject();
        JsonObject reply = new JsonObject();
        BiFunction<JsonObject, Integer, JsonElement> h = handlers.get(cmd);
        try {
            if (h == null) {
                reply.add("return", defaults(cmd));
            } else {
                JsonElement r = h.apply(args, conn);
                if (r == null) {
                    return; // the handler will never answer (a hung command)
                }
                reply.add("return", r);
            }
        } catch (Fail f) {
            JsonObject err = new JsonObject();
            err.addProperty("class", f.cls);
            err.addProperty("desc", f.getMessage());
            reply.add("error", err);
        }
        reply.add("id", id);
        send(c, reply.toString());
    }

    private static JsonElement defaults(String cmd) {
        switch (cmd) {
            case "vm-list" :
            case "probe-list" :
            case "detector-list" :
                return JsonParser.parseString("[]");
            default :
                return new JsonObject();
        }
    }

    /** Pushes an event line to every client. */
    public void push(String eventJson) throws IOException {
        for (SocketChannel c : clients) {
            send(c, eventJson);
        }
    }

    private static void send(SocketChannel c, String line) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (c) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
    }

    /** Drops every client connection (the agent "crashes" but keeps listening). */
    public void dropClients() throws IOException {
        for (SocketChannel c : clients) {
            c.close();
        }
        clients.clear();
    }

    @Override
    public void close() throws IOException {
        server.close();
        dropClients();
        Files.deleteIfExists(socket);
    }
}
