package io.hprobe.core.symbols;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import org.eclipse.jdt.annotation.Nullable;

/**
 * Instant search over a symbol table (150k kernel symbols in a few ms per keystroke).
 * <p>
 * All names are lower-cased into one String with a '\n' before each name, so a substring search is a
 * series of String.indexOf calls (an intrinsic, vectorised by the JIT) instead of 150k contains() calls;
 * a hit's position maps back to its symbol by bisecting the start offsets. Results are ranked: exact name,
 * then prefix, then substring, shorter names first within a rank. Patterns with '*' or '?' are globs,
 * matched as a whole name, as sym-search does.
 */
public final class SymbolIndex {

    private final Symbol[] symbols;
    private final String text;
    private final int[] starts;

    public SymbolIndex(Collection<Symbol> all) {
        symbols = all.toArray(new Symbol[0]);
        Arrays.sort(symbols, (a, b) -> a.name().compareTo(b.name()));
        starts = new int[symbols.length];
        StringBuilder b = new StringBuilder(symbols.length * 24);
        for (int i = 0; i < symbols.length; i++) {
            b.append('\n');
            starts[i] = b.length();
            b.append(symbols[i].name().toLowerCase(Locale.ROOT));
        }
        b.append('\n');
        text = b.toString();
    }

    public int size() {
        return symbols.length;
    }

    /** The result of one search: the best matches (at most the limit) and how many matched in all. */
    public record Result(List<Symbol> symbols, int total) {
    }

    /** Searches names (case-insensitive); an empty pattern lists the first symbols by name. */
    public Result search(String pattern, int limit) {
        String p = pattern.trim().toLowerCase(Locale.ROOT);
        if (p.isEmpty()) {
            return new Result(List.of(Arrays.copyOf(symbols, Math.min(limit, symbols.length))), symbols.length);
        }
        if (p.indexOf('*') >= 0 || p.indexOf('?') >= 0) {
            return glob(p, limit);
        }
        // ranks: 0 exact, 1 prefix, 2 substring; collect up to limit per rank, count all
        List<Integer> exact = new ArrayList<>(), prefix = new ArrayList<>(), inner = new ArrayList<>();
        int total = 0;
        int from = 0;
        int last = -1; // kept as a guard: with the jump below a name is never seen twice
        while (true) {
            int at = text.indexOf(p, from);
            if (at < 0) {
                break;
            }
            int sym = symbolAt(at);
            if (sym != last) { // a name that holds the pattern twice counts once
                last = sym;
                total++;
                int len = symbols[sym].name().length();
                if (at == starts[sym]) {
                    (len == p.length() ? exact : prefix).add(sym);
                } else if (inner.size() < limit) {
                    inner.add(sym);
                }
            }
            // a name counts once: go on from the next name, not from the next character
            from = sym + 1 < starts.length ? starts[sym + 1] : text.length();
        }
        List<Symbol> out = new ArrayList<>(Math.min(limit, total));
        addRanked(out, exact, limit);
        addRanked(out, prefix, limit);
        addRanked(out, inner, limit);
        return new Result(out, total);
    }

    private void addRanked(List<Symbol> out, List<Integer> ids, int limit) {
        if (out.size() >= limit) {
            return;
        }
        Integer[] a = ids.toArray(new Integer[0]);
        Arrays.sort(a, (x, y) -> {
            int c = Integer.compare(symbols[x].name().length(), symbols[y].name().length());
            return c != 0 ? c : Integer.compare(x, y);
        });
        for (Integer i : a) {
            if (out.size() >= limit) {
                return;
            }
            out.add(symbols[i]);
        }
    }

    private int symbolAt(int pos) {
        int i = Arrays.binarySearch(starts, pos);
        return i >= 0 ? i : -i - 2;
    }

    private Result glob(String p, int limit) {
        StringBuilder re = new StringBuilder();
        for (char c : p.toCharArray()) {
            if (c == '*') {
                re.append("[^\\n]*"); //$NON-NLS-1$
            } else if (c == '?') {
                re.append("[^\\n]"); //$NON-NLS-1$
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        Pattern pat = Pattern.compile(re.toString());
        // only names holding the glob's longest literal part can match: find those with indexOf first
        String literal = ""; //$NON-NLS-1$
        for (String part : p.split("[*?]")) { //$NON-NLS-1$
            if (part.length() > literal.length()) {
                literal = part;
            }
        }
        List<Symbol> out = new ArrayList<>();
        int total = 0;
        int last = -1;
        for (int at = literal.isEmpty() ? -1 : text.indexOf(literal); !literal.isEmpty()
                && at >= 0; at = text.indexOf(literal, at + 1)) {
            int sym = symbolAt(at);
            if (sym == last) {
                continue;
            }
            last = sym;
            if (pat.matcher(symbols[sym].name().toLowerCase(Locale.ROOT)).matches()) {
                total++;
                if (out.size() < limit) {
                    out.add(symbols[sym]);
                }
            }
        }
        if (literal.isEmpty()) {
            for (Symbol sy : symbols) {
                if (pat.matcher(sy.name().toLowerCase(Locale.ROOT)).matches()) {
                    total++;
                    if (out.size() < limit) {
                        out.add(sy);
                    }
                }
            }
        }
        return new Result(out, total);
    }

    /** The symbol with exactly this name, or null. */
    public @Nullable Symbol find(String name) {
        int lo = 0, hi = symbols.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = symbols[mid].name().compareTo(name);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return symbols[mid];
            }
        }
        return null;
    }
}
