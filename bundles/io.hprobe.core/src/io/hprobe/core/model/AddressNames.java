package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import org.eclipse.jdt.annotation.Nullable;

/**
 * Kernel addresses as the guest kernel names them ("vfs_write+0x10"), for the views that show IPs: each
 * address is asked of the agent once (sym-lookup, in batches, off the caller's thread), and the views are
 * told when names arrive. Until then, and for an address no function holds, a view shows the number.
 */
public final class AddressNames {

    /** Addresses asked about at most: a VM's hits have few distinct IPs. */
    static final int MAX = 65536;
    /** Addresses per sym-lookup (the agent takes 4096). */
    static final int BATCH = 1024;
    /** Where x86-64 maps the kernel image: its text is there, heap pointers and user space are not. */
    private static final long KERNEL_IMAGE_START = 0xffffffff80000000L, KERNEL_IMAGE_END = 0xffffffffc0000000L;

    private final Function<List<Long>, CompletableFuture<List<@Nullable String>>> lookup;
    private final Runnable named;
    private final Map<Long, String> names = new ConcurrentHashMap<>(); // "" = no name
    private final Set<Long> pending = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean asking = new AtomicBoolean();
    /** Batches answered so far: a view that drew numbers redraws when it changes. */
    private final AtomicInteger answered = new AtomicInteger();
    private volatile boolean off;

    /**
     * @param lookup names a batch of addresses, null for none (the agent's sym-lookup)
     * @param named  called (on the lookup's thread) when a batch's names arrived
     */
    public AddressNames(Function<List<Long>, CompletableFuture<List<@Nullable String>>> lookup, Runnable named) {
        this.lookup = lookup;
        this.named = named;
    }

    /** The name of a kernel address, or null: not known yet (it is asked now) or none. Any thread. */
    public @Nullable String name(long addr) {
        String n = names.get(addr);
        if (n != null) {
            return n.isEmpty() ? null : n;
        }
        if (!off && Long.compareUnsigned(addr, KERNEL_IMAGE_START) >= 0
                && Long.compareUnsigned(addr, KERNEL_IMAGE_END) < 0 && names.size() + pending.size() < MAX
                && pending.add(addr)) {
            ask();
        }
        return null;
    }

    /** How many batches of names have arrived (it only grows): the names shown may be out of date when it moved. */
    public int answered() {
        return answered.get();
    }

    /** One batch in flight at a time; the next starts when it ends. */
    private void ask() {
        if (off || pending.isEmpty() || !asking.compareAndSet(false, true)) {
            return;
        }
        List<Long> batch = new ArrayList<>();
        for (Iterator<Long> it = pending.iterator(); it.hasNext() && batch.size() < BATCH;) {
            batch.add(it.next());
        }
        CompletableFuture<List<@Nullable String>> f;
        try {
            f = lookup.apply(batch);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((list, e) -> {
            if (e != null || list == null || list.size() != batch.size()) {
                off = true; // an agent without sym-lookup, or no kernel symbols: numbers it is
            } else {
                for (int i = 0; i < batch.size(); i++) {
                    String n = list.get(i);
                    names.put(batch.get(i), n == null ? "" : n);
                }
            }
            pending.removeAll(batch);
            answered.incrementAndGet();
            asking.set(false);
            named.run();
            ask();
        });
    }
}
