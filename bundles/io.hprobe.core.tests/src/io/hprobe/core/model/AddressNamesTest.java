package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;

/** Kernel addresses named by a lookup: each asked once, in batches; others never asked; a failed lookup stops it. */
@NonNullByDefault({})
class AddressNamesTest {

    private static final long FN = 0xffffffff81000010L;

    @Test
    void eachAddressAskedOnceAndTheViewsTold() {
        List<List<Long>> asked = new ArrayList<>();
        List<CompletableFuture<List<String>>> replies = new ArrayList<>();
        AtomicInteger told = new AtomicInteger();
        AddressNames n = new AddressNames(addrs -> {
            asked.add(List.copyOf(addrs));
            CompletableFuture<List<String>> f = new CompletableFuture<>();
            replies.add(f);
            return f;
        }, told::incrementAndGet);
        assertNull(n.name(FN), "not known yet: the number meanwhile");
        assertEquals(0, n.answered());
        assertNull(n.name(FN + 1)); // queued behind the batch in flight
        assertNull(n.name(FN));
        assertNull(n.name(0x401000L), "user space: not asked");
        assertNull(n.name(0xffff888000001000L), "the direct map: not asked");
        assertEquals(List.of(List.of(FN)), asked);
        replies.get(0).complete(Arrays.asList("do_thing+0x10"));
        assertEquals(1, told.get());
        assertEquals(1, n.answered(), "views that drew the number know to draw again");
        assertEquals("do_thing+0x10", n.name(FN));
        assertEquals(List.of(FN + 1), asked.get(1), "the next batch once the first returned");
        replies.get(1).complete(Arrays.asList((String) null));
        assertNull(n.name(FN + 1), "no function holds it");
        assertEquals(2, asked.size(), "each address asked once");
        assertEquals(2, told.get());
        assertEquals(2, n.answered());
    }

    @Test
    void anAgentThatCannotTellIsAskedNoMore() {
        AtomicInteger calls = new AtomicInteger();
        AddressNames n = new AddressNames(addrs -> {
            calls.incrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("UnknownCommand"));
        }, () -> {
        });
        assertNull(n.name(FN));
        assertNull(n.name(FN + 0x100));
        assertEquals(1, calls.get());
    }

    @Test
    void aReplyOfTheWrongLengthIsNotTrusted() {
        AddressNames n = new AddressNames(addrs -> CompletableFuture.completedFuture(List.of("a", "b")), () -> {
        });
        assertNull(n.name(FN));
        assertNull(n.name(FN), "the agent's reply did not match the question: no name taken from it");
    }
}
