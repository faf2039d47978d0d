package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.eclipse.jdt.annotation.NonNullByDefault;
import org.junit.jupiter.api.Test;

import com.google.gson.JsonParser;

/** agg-read replies as the agent writes them (docs/protocol.md, agg-read), read by the workbench. */
@NonNullByDefault({})
class AggTableTest {

    private static AggTable table(String s) {
        return AggTable.fromJson(JsonParser.parseString(s).getAsJsonObject());
    }

    @Test
    void theProtocolsExample() {
        AggTable t = table("{\"probe\": 3, \"agg\": \"hist(count) by comm\", \"fn\": \"hist\", \"by\": [\"comm\"],"
                + " \"rows\": [{\"key\": [\"sysloop\"], \"count\": 60, \"sum\": 420, \"min\": 7, \"max\": 7,"
                + " \"avg\": 7.0, \"hist\": [{\"from\": 4, \"to\": 7, \"count\": 60}]}],"
                + " \"hits\": 60, \"keys\": 1, \"max_keys\": 1024, \"other_hits\": 0, \"left_off\": 0}");
        assertEquals(3, t.probe());
        assertEquals(List.of("comm"), t.by());
        assertEquals(1024, t.maxKeys());
        AggTable.Row r = t.rows().get(0);
        assertEquals(List.of("sysloop"), r.key());
        assertEquals("420", r.sum());
        assertEquals(60.0, r.figure("hist"));
        assertEquals(420.0, r.figure("sum"));
        assertEquals(7.0, r.figure("avg"));
        assertEquals(List.of(new AggTable.Bucket("4", "7", 60)), r.hist());
        assertEquals("[4, 8)", r.hist().get(0).label());
    }

    @Test
    void numbersStayExactAndBucketsAtTheEdges() {
        AggTable t = table("{\"fn\": \"count\", \"by\": [\"pid\", \"arg1\"], \"rows\": ["
                + "{\"key\": [-1, 18446744073709551615], \"count\": 9007199254740993,"
                + " \"hist\": [{\"from\": -9223372036854775808, \"to\": -1, \"count\": 1},"
                + " {\"from\": 0, \"to\": 0, \"count\": 2},"
                + " {\"from\": 4611686018427387904, \"to\": 18446744073709551615, \"count\": 3}]}]}");
        AggTable.Row r = t.rows().get(0);
        assertEquals(List.of("-1", "18446744073709551615"), r.key());
        assertEquals(9007199254740993L, r.count());
        assertNull(r.sum());
        assertEquals(List.of("(..., 0)", "[0]", "[4611686018427387904, 2^64)"),
                r.hist().stream().map(AggTable.Bucket::label).toList());
        // a reply with nothing: no rows, no crash
        assertEquals(List.of(), table("{}").rows());
    }

    @Test
    void columnsSortByNumberTextCountAndFigure() {
        AggTable t = table("{\"fn\": \"sum\", \"by\": [\"comm\", \"fd\"], \"rows\": ["
                + "{\"key\": [\"sshd\", 10], \"count\": 1, \"sum\": 30},"
                + "{\"key\": [\"bash\", 9], \"count\": 3, \"sum\": 10},"
                + "{\"key\": [\"ab\", 18446744073709551615], \"count\": 2, \"sum\": 20}]}");
        List<AggTable.Row> rows = t.rows();
        // by comm (text), by fd as numbers (9 before 10, 2^64 - 1 exact), by count, by sum
        assertEquals(List.of("ab", "bash", "sshd"), sorted(t, 0).stream().map(r -> r.key().get(0)).toList());
        assertEquals(List.of("9", "10", "18446744073709551615"),
                sorted(t, 1).stream().map(r -> r.key().get(1)).toList());
        assertEquals(List.of(1L, 2L, 3L), sorted(t, 2).stream().map(AggTable.Row::count).toList());
        assertEquals(List.of("10", "20", "30"), sorted(t, 3).stream().map(AggTable.Row::sum).toList());
        // numbers before text in a column that holds both
        AggTable.Row num = rows.get(0);
        AggTable.Row txt = new AggTable.Row(List.of("x", "ret < 0"), 1, null, null, null, 0, List.of());
        assertEquals(-1, Integer.signum(t.columnOrder(1).compare(num, txt)));
    }

    private static List<AggTable.Row> sorted(AggTable t, int column) {
        return t.rows().stream().sorted(t.columnOrder(column)).toList();
    }
}
