package io.hprobe.core.symbols;

import static io.hprobe.core.Checks.nn;
import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.google.gson.JsonParser;

/** Ranking, globs and case of the local symbol search; disassembly parsing and probe specs. */
@NonNullByDefault({})
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SymbolIndexTest {

    static SymbolIndex index(String... names) {
        List<Symbol> l = new ArrayList<>();
        long a = 0xffffffff81000000L;
        for (String n : names) {
            l.add(new Symbol(n, a += 0x40, 'T', 0x40));
        }
        return new SymbolIndex(l);
    }

    @Test
    void exactThenPrefixThenSubstringShortestFirst() {
        SymbolIndex ix = index("__x64_sys_getpid", "__ia32_sys_getpid", "__do_sys_getpid", "sys_getpid",
                "sys_getpid_extra", "getpid", "task_tgid_vnr");
        SymbolIndex.Result r = ix.search("sys_getpid", 10);
        assertEquals(5, r.total());
        assertEquals("sys_getpid", r.symbols().get(0).name());
        assertEquals("sys_getpid_extra", r.symbols().get(1).name());
        assertEquals("__do_sys_getpid", r.symbols().get(2).name());
    }

    @Test
    void caseInsensitiveAndLimited() {
        SymbolIndex ix = index("Alpha", "alphabet", "ALPHA_2", "beta");
        SymbolIndex.Result r = ix.search("ALPHA", 2);
        assertEquals(3, r.total());
        assertEquals(2, r.symbols().size());
    }

    @Test
    void globsMatchWholeNames() {
        SymbolIndex ix = index("__x64_sys_getpid", "__x64_sys_write", "sys_write_x", "__x64_sys_getppid");
        SymbolIndex.Result r = ix.search("__x64_sys_get*", 10);
        assertEquals(2, r.total());
        assertEquals(1, ix.search("__x64_sys_getp?d", 10).total());
        assertEquals(4, ix.search("*", 10).total());
    }

    @Test
    void aNameMatchingTwiceCountsOnce() {
        assertEquals(1, index("abab").search("ab", 10).total());
        assertEquals(0, index("x").search("y", 10).total());
        assertEquals(1, index("x", "y").search("", 1).symbols().size());
    }

    @Test
    void findExact() {
        SymbolIndex ix = index("b", "a", "c");
        assertEquals("a", nn(ix.find("a")).name());
        assertNull(ix.find("d"));
    }

    @Test
    void disassemblyMarksBackEdgesAndBuildsSpecs() {
        Disassembly d = Disassembly
                .fromJson(JsonParser.parseString("{\"function\":\"stuck_loop\",\"addr\":\"0x401a10\","
                        + "\"size\":96,\"insns\":[{\"addr\":\"0x401a10\",\"bytes\":\"55\",\"text\":\"push rbp\"},"
                        + "{\"addr\":\"0x401a40\",\"bytes\":\"8b442408\",\"text\":\"mov eax, dword ptr [rsp + 8]\"},"
                        + "{\"addr\":\"0x401a4c\",\"bytes\":\"74f2\",\"text\":\"je 0x401a40\",\"target\":\"0x401a40\","
                        + "\"back_edge\":true},{\"addr\":\"0x401a4e\",\"bytes\":\"e8ad000000\",\"text\":\"call 0x401b00\","
                        + "\"target\":\"0x401b00\",\"target_sym\":\"helper+0x10\"}]}").getAsJsonObject());
        assertEquals(4, d.instructions().size());
        assertEquals("je 0x401a40", d.instructions().get(2).display(), "no function named: the text alone");
        assertEquals("call 0x401b00 <helper+0x10>", d.instructions().get(3).display());
        assertTrue(d.instructions().get(2).backEdge());
        assertEquals(0x401a40, d.instructions().get(2).target());
        assertTrue(d.isLoopHead(0x401a40));
        assertEquals("kernel:stuck_loop", d.specAt(0x401a10, ""));
        assertEquals("app:/apps/spin:stuck_loop+0x3c", d.specAt(0x401a4c, "/apps/spin"));
    }
}
