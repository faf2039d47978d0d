package io.hprobe.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.eclipse.jdt.annotation.Nullable;

import io.hprobe.core.protocol.AgentException;
import io.hprobe.core.symbols.Symbol;
import io.hprobe.core.symbols.SymbolIndex;

/**
 * Reads a whole symbol table through sym-search. sym-search has a limit and no offset, so a pattern with
 * more matches than one answer holds is split by its next character until each part fits. Blocking: runs
 * on the agent's thread, never the connection's reader.
 */
final class SymbolLoader {

    /** Names per sym-search: keeps each reply around 1.5 MB (the agent allows 100000). */
    private static final int SEARCH_MAX = 20_000;
    private static final String NAME_CHARS = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.$"; //$NON-NLS-1$

    private final Agent agent;
    private final Vm vm;
    private final @Nullable String binary;

    SymbolLoader(Agent agent, Vm vm, @Nullable String binary) {
        this.agent = agent;
        this.vm = vm;
        this.binary = binary;
    }

    SymbolIndex load() throws AgentException {
        List<Symbol> all = new ArrayList<>();
        collect("", all, 0); //$NON-NLS-1$
        return new SymbolIndex(all);
    }

    private void collect(String prefix, List<Symbol> out, int depth) throws AgentException {
        SymbolIndex.Result r = join(agent.searchSymbols(vm, prefix + "*", SEARCH_MAX, binary)); //$NON-NLS-1$
        if (r.total() <= r.symbols().size() || depth > 6) {
            for (Symbol s : r.symbols()) {
                if (s.name().startsWith(prefix)) {
                    out.add(s);
                }
            }
            return;
        }
        // too many: the prefix itself if it is a name, then one sub-pattern per next character
        for (Symbol s : r.symbols()) {
            if (s.name().equals(prefix)) {
                out.add(s);
            }
        }
        for (char ch : NAME_CHARS.toCharArray()) {
            collect(prefix + ch, out, depth + 1);
        }
    }

    private static <T> T join(CompletableFuture<T> f) throws AgentException {
        try {
            return f.join();
        } catch (RuntimeException e) {
            AgentException a = AgentException.unwrap(e);
            if (a != null) {
                throw a;
            }
            throw e;
        }
    }
}
