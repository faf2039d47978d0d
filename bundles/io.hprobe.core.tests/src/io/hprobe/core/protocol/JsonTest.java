package io.hprobe.core.protocol;

import org.eclipse.jdt.annotation.NonNullByDefault;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** Unsigned 64-bit values and addresses must survive parsing bit for bit. */
@NonNullByDefault({})
@Timeout(value = 10, unit = TimeUnit.SECONDS)
class JsonTest {

    @Test
    void unsigned64BitArgumentsKeepTheirBits() {
        JsonObject o = JsonParser.parseString("{\"a\":18446744073709551615,\"b\":18446744073709551557,\"c\":-1}")
                .getAsJsonObject();
        assertEquals(-1L, Json.lng(o, "a", 0));
        assertEquals("18446744073709551557", Long.toUnsignedString(Json.lng(o, "b", 0)));
        assertEquals(-1L, Json.lng(o, "c", 0));
    }

    @Test
    void addressesAreHexStrings() {
        JsonObject o = JsonParser.parseString("{\"addr\":\"0xffffffff98abe350\",\"bad\":\"zz\"}").getAsJsonObject();
        assertEquals(0xffffffff98abe350L, Json.addr(o, "addr", 0));
        assertEquals(7, Json.addr(o, "bad", 7));
        assertEquals(7, Json.addr(o, "missing", 7));
        assertEquals("0xffffffff98abe350", Json.hex(0xffffffff98abe350L));
    }

    @Test
    void mistypedMembersGiveTheDefault() {
        JsonObject o = JsonParser.parseString("{\"n\":\"x\",\"s\":5,\"b\":1,\"o\":[]}").getAsJsonObject();
        assertEquals(3, Json.integer(o, "n", 3));
        assertEquals("5", Json.str(o, "s", "d"));
        assertEquals(true, Json.bool(o, "b", true));
        assertEquals(0, Json.obj(o, "o").size());
    }
}
