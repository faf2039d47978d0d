package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** Parameters as the agent describes them, and values read as native/lib/tests/test_param.c reads them. */
@NonNullByDefault({})
class ParamTest {

    private static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    void valuesReadAsLibhprobeReadsThem() {
        assertEquals("3", new Param("fd", "unsigned int", "uint", 4).format(0xdead00000003L));
        assertEquals("-2", new Param("x", "int", "int", 4).format(0xfffffffeL));
        assertEquals("-100", new Param("x", "long", "int", 8).format(0xffffffffffffff9cL));
        assertEquals("-128", new Param("x", "char", "int", 1).format(0x80));
        assertEquals("18446744073709551615", new Param("x", "u64", "uint", 8).format(-1L));
        assertEquals("0x7ffd1234", new Param("b", "void *", "ptr", 8).format(0x7ffd1234L));
        assertEquals("0xffff888000001000", new Param("s", "char *", "str", 8).format(0xffff888000001000L));
        assertEquals("0x100000001", new Param("r", "?", "raw", 4).format(0x100000001L));
    }

    @Test
    void probeDescriptions() {
        JsonObject p = json("{\"id\":1,\"spec\":\"kernel:__x64_sys_write\",\"params\":["
                + "{\"name\":\"fd\",\"type\":\"unsigned int\",\"class\":\"uint\",\"size\":4},"
                + "{\"name\":\"buf\",\"type\":\"const char *\",\"class\":\"str\",\"size\":8}]}");
        Probe probe = Probe.fromJson(p);
        assertEquals(List.of(new Param("fd", "unsigned int", "uint", 4), new Param("buf", "const char *", "str", 8)),
                probe.params());
        assertEquals("fd=3 buf=0x1234 arg3=0x7", probe.namedArgs(new long[]{ 0x100000003L, 0x1234, 7 }));
        // getpid: known to have none; what --args read there are registers
        assertEquals("arg1=0x43add9",
                Probe.fromJson(json("{\"id\":2,\"params\":[]}")).namedArgs(new long[]{ 0x43add9 }));
        // unknown: the workbench falls back to numbers
        assertNull(Probe.fromJson(json("{\"id\":3}")).namedArgs(new long[]{ 1 }));
        // a pointer the namer knows is followed by its name, as the CLI shows it; a string or a number is not
        Probe rcu = Probe.fromJson(json("{\"id\":4,\"params\":["
                + "{\"name\":\"head\",\"type\":\"struct rcu_head *\",\"class\":\"ptr\",\"size\":8},"
                + "{\"name\":\"func\",\"type\":\"rcu_callback_t\",\"class\":\"ptr\",\"size\":8},"
                + "{\"name\":\"n\",\"type\":\"long\",\"class\":\"int\",\"size\":8}]}"));
        long fn = 0xffffffff811c0a10L;
        assertEquals("head=0xffff888000001000 func=0xffffffff811c0a10<delayed_put_task_struct> n=" + fn, rcu
                .namedArgs(new long[]{ 0xffff888000001000L, fn, fn }, a -> a == fn ? "delayed_put_task_struct" : null));
        // a PROBE event that does not repeat them keeps them
        assertEquals(probe.params(), probe.merge(json("{\"enabled\":false}")).params());
    }

    @Test
    void hostileDescriptionsAreUnknown() {
        for (String bad : new String[]{ "[{\"name\":\"a b\",\"class\":\"uint\",\"size\":4}]",
                "[{\"name\":\"fd\",\"class\":\"float\",\"size\":4}]",
                "[{\"name\":\"fd\",\"class\":\"uint\",\"size\":9}]",
                "[{\"name\":\"fd\",\"class\":\"uint\",\"size\":4}, 7]", "\"fd\"",
                "[{\"name\":\"averyveryverylongparameternamethatgoeson\",\"class\":\"int\",\"size\":4}]" }) {
            assertNull(Param.listOf(json("{\"params\":" + bad + "}")), bad);
        }
        Param r = Param
                .returnOf(json("{\"ret_type\":{\"type\":\"long\",\"class\":\"int\",\"size\":8,\"errno\":true}}"));
        assertNotNull(r);
        assertEquals("-2", r.format(-2));
        assertTrue(
                Probe.fromJson(json("{\"ret_type\":{\"type\":\"long\",\"class\":\"int\",\"size\":8,\"errno\":true}}"))
                        .retErrno());
    }

    @Test
    void returnValuesReadAsLibhprobesNamedRet() {
        Probe sys = Probe
                .fromJson(json("{\"ret_type\":{\"type\":\"long\",\"class\":\"int\",\"size\":8,\"errno\":true}}"));
        assertEquals("-2 ENOENT", sys.namedRet(-2));
        assertEquals("7", sys.namedRet(7));
        assertEquals("-4096", sys.namedRet(-4096)); // past MAX_ERRNO: a value, not an error
        Probe uint = Probe.fromJson(json("{\"ret_type\":{\"type\":\"unsigned int\",\"class\":\"uint\",\"size\":4}}"));
        assertEquals("4294967295", uint.namedRet(-1));
        assertEquals("-5", Probe.fromJson(json("{\"id\":1}")).namedRet(-5));
    }
}
