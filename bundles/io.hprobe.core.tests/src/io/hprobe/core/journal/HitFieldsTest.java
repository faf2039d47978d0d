package io.hprobe.core.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The hit fields come from libhprobe's one table (hp_hit__fields), read only as far as its own CSV heading
 * vouches for; the built-in copy the workbench falls back on is that same table.
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
    void theFieldsAreLibhprobesTableAndTheBuiltInCopyIsTheSame() throws Exception {
        assumeTrue(Journals.isAvailable(), "libhprobe not available: " + Journals.unavailableReason());
        List<HitField> lib = HitFields.fromLibrary();
        assertEquals(HitFields.DEFAULTS, lib, "the built-in copy of the table drifted from hit.c");
        assertEquals(lib, HitFields.all());
        assertEquals("libhprobe", HitFields.source());
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
