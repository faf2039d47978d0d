package io.hprobe.core.journal;

import org.eclipse.jdt.annotation.Nullable;

/**
 * The explicit result of a long operation: completed with a value, failed with a message, or cancelled.
 * (Core stays free of org.eclipse.core.runtime; the UI turns this into an IStatus.)
 */
public record Outcome<T>(Status status, String message, @Nullable T value) {

    public enum Status {
        OK, FAILED, CANCELLED,
    }

    public static <T> Outcome<T> ok(T value, String message) {
        return new Outcome<>(Status.OK, message, value);
    }

    public static <T> Outcome<T> failed(String message) {
        return new Outcome<>(Status.FAILED, message, null);
    }

    public static <T> Outcome<T> cancelled(String message) {
        return new Outcome<>(Status.CANCELLED, message, null);
    }

    public boolean isOk() {
        return status == Status.OK;
    }
}
