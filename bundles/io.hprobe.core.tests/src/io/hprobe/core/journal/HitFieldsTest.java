package io.hprobe.core.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.google.gson.JsonParser;

/**
 * The hit fields come from libhprobe's one table (hp_hit__fields), read only as far as its own CSV heading
 * vouches for, or from the agent's copy of the same table (agent-info) when libhprobe cannot be loaded.
 */
@NonNullByDefault({})
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HitFieldsTest {

    @Test
    void theCsvHeadingNamesOneFieldForAllTheArguments() {
        assertEquals(List.of("seq", "probe", "args", "mem"),
                HitFields.fieldNames("seq,probe,arg0,arg1,arg2,arg3,arg4,arg5,mem\r\n"));
        assertEquals(List.of("seq"), HitFields.fieldNames("seq\r\n"));
    }

    @Test
    void theFieldsAreLibhprobesTable() throws Exception {
        assumeTrue(Journals.isAvailable(), "libhprobe not available: " + Journals.unavailableReason());
        List<HitField> lib = HitFields.fromLibrary();
        assertEquals(lib, HitFields.all());
        assertEquals("libhprobe", HitFields.source());
        assertEquals("seq", lib.get(0).name());
    }

    @Test
    void anAgentsTableIsReadRowByRowAndAMalformedOneRefused() throws Exception {
        List<HitField> f = HitFields.fromJson(JsonParser.parseString("[{\"name\":\"pid\",\"type\":\"int\","
                + "\"stream\":true,\"export\":false,\"optional\":true,\"title\":\"PID\",\"doc\":\"the pid\"}]"));
        assertEquals(List.of(new HitField("pid", HitField.Type.INT, true, false, true, "PID", "the pid")), f);
        for (String bad : new String[]{ "null", "[]", "{}", "[1]", "[{\"name\":\"x\"}]",
                "[{\"name\":\"x\",\"type\":\"float\",\"stream\":true,\"export\":true,\"optional\":false,"
                        + "\"title\":\"X\",\"doc\":\"x\"}]" }) {
            assertThrows(JournalException.class, () -> HitFields.fromJson(JsonParser.parseString(bad)), bad);
        }
        HitFields.adoptAgent(JsonParser.parseString("[{\"name\":\"x\"}]")); // ignored, no throw
    }

    @Test
    void everyFieldHasATitleAndADoc() {
        List<HitField> all = HitFields.all();
        assertFalse(all.isEmpty());
        for (HitField f : all) {
            assertFalse(f.name().isBlank() || f.title().isBlank() || f.doc().isBlank(), f.toString());
        }
        HitField pid = HitFields.named("pid");
        assertEquals(true, pid != null && pid.optional(), "pid may be unknown");
    }
}
