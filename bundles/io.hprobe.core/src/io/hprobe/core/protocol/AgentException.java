package io.hprobe.core.protocol;

import org.eclipse.jdt.annotation.Nullable;

import com.google.gson.JsonElement;

/**
 * A failed command: the agent's error class and description (docs/protocol.md), or a local failure
 * (connection lost, timeout) with a class of our own so that callers can tell the user what to do.
 */
public class AgentException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Local class: the socket is gone or was never there. */
    public static final String DISCONNECTED = "Disconnected"; //$NON-NLS-1$
    /** Local class: the agent did not answer in time. */
    public static final String NO_REPLY = "NoReply"; //$NON-NLS-1$
    /** Local class: the agent speaks a protocol this client does not know. */
    public static final String PROTOCOL = "ProtocolMismatch"; //$NON-NLS-1$
    /** Local class: the process on the socket runs as another user (not ours, not root's). */
    public static final String UNTRUSTED = "UntrustedAgent"; //$NON-NLS-1$

    private final String errorClass;
    private final String desc;
    private final transient @Nullable JsonElement data;

    public AgentException(String errorClass, String desc, @Nullable JsonElement data) {
        super(errorClass + ": " + desc); //$NON-NLS-1$
        this.errorClass = errorClass;
        this.desc = desc;
        this.data = data;
    }

    public AgentException(String errorClass, String desc, Throwable cause) {
        super(errorClass + ": " + desc, cause); //$NON-NLS-1$
        this.errorClass = errorClass;
        this.desc = desc;
        this.data = null;
    }

    /** The protocol's error class, e.g. UnknownSymbol, or one of the local classes above. */
    public String errorClass() {
        return errorClass;
    }

    /** The agent's human-readable description. */
    public String desc() {
        return desc;
    }

    /** Command-specific details, e.g. {"suggestions": [...]} for UnknownSymbol. */
    public @Nullable JsonElement data() {
        return data;
    }

    /** The AgentException inside a CompletableFuture's CompletionException, if there is one. */
    public static @Nullable AgentException unwrap(@Nullable Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof AgentException e) {
                return e;
            }
        }
        return null;
    }
}
