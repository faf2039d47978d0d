package io.hprobe.core;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.eclipse.jdt.annotation.Nullable;

/** Test helpers that the null analysis understands. */
@NonNullByDefault({})
public final class Checks {

    private Checks() {
    }

    /** Fails the test when t is null, else returns it. */
    public static <T> T nn(@Nullable T t) {
        assertNotNull(t);
        return t;
    }
}
