package io.hprobe.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonParser;

import io.hprobe.core.model.DetectorText.Row;

/** Detectors in words: the agent's configs and states (native/agent/src/detectors) as labelled values. */
class DetectorTextTest {

    private static Detector det(String kind, String config, String state) {
        return new Detector(1, kind, JsonParser.parseString(config).getAsJsonObject(),
                JsonParser.parseString(state).getAsJsonObject(), 0, true);
    }

    @Test
    void configurationsReadAsASentence() {
        assertEquals("CVE-2008-0600: block the call; errno returned 14", DetectorText
                .config(det("emergency", "{\"cve\":\"CVE-2008-0600\",\"action\":\"block\",\"errno\":14}", "{}")));
        assertEquals("app:/apps/hb:heartbeat called at least every 500 ms; command hb", DetectorText.config(
                det("watchdog", "{\"probe\":\"app:/apps/hb:heartbeat\",\"period_ms\":500,\"comm\":\"hb\"}", "{}")));
        assertEquals("scope all, period 250 ms, window 1000 ms, cool-down 5000 ms", DetectorText.config(
                det("loop", "{\"scope\":\"all\",\"period_ms\":250,\"window_ms\":1000,\"cooldown_ms\":5000}", "{}")));
        assertEquals("defaults", DetectorText.config(det("loop", "{}", "{}")));
        // a kind this workbench does not know: its members by name, units from their suffix
        assertEquals("max depth 3, quiet 20 s, verbose yes",
                DetectorText.config(det("future", "{\"max_depth\":3,\"quiet_s\":20,\"verbose\":true}", "{}")));
    }

    @Test
    void aFormsValuesMakeTheConfigurationTheAgentReads() {
        assertEquals("{\"scope\":\"user\",\"window_ms\":2000}", DetectorKinds
                .config("loop", Map.of("scope", "user", "window_ms", " 2000 ", "period_ms", "")).toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DetectorKinds.config("watchdog", Map.of("probe", "app:/x:f", "period_ms", "1s")));
        assertEquals("Period (ms): a whole number, not '1s'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> DetectorKinds.config("watchdog", Map.of("period_ms", "5")));
        assertEquals("Heartbeat function: needed", e.getMessage());
        assertEquals(List.of(), DetectorKinds.fields("future"), "a kind without a form: JSON");
        // every kind's form starts from values the agent takes (docs/detectors.md)
        assertEquals("{\"cve\":\"CVE-2008-0600\",\"action\":\"block\"}", DetectorKinds.config("emergency",
                DetectorKinds.fields("emergency").stream().collect(Collectors.toMap(f -> f.key(), f -> f.start())))
                .toString());
    }

    @Test
    void aWatchdogsStateIsLabelledValuesWithAProcessPerRow() {
        // as det_watchdog.c's state() writes it
        List<Row> rows = DetectorText.state(det("watchdog", "{}",
                "{\"period_ms\":500,\"probe_state\":\"armed\",\"target\":\"watched\",\"processes\":[{\"pid\":99,"
                        + "\"comm\":\"hb\",\"state\":\"ok\",\"heartbeat_age_ms\":56,\"beats\":8}],\"hangs\":0,"
                        + "\"recoveries\":0,\"exits\":0}"));
        assertEquals(List.of("Period=500 ms", "Its probe=armed", "Program=watched", "Processes=1", "Hangs=0",
                "Recoveries=0", "Exits=0"), rows.stream().map(r -> r.label() + "=" + r.value()).toList());
        Row hb = rows.get(3).children().get(0);
        assertEquals("hb (pid 99)", hb.label());
        assertEquals("ok", hb.value());
        assertEquals(List.of("PID=99", "Command=hb", "State=ok", "Last beat=56 ms ago", "Beats=8"),
                hb.children().stream().map(r -> r.label() + "=" + r.value()).toList());
    }

    @Test
    void aLoopSuspicionNamesItsTaskAndFunction() {
        List<Row> rows = DetectorText.state(
                det("loop", "{}", "{\"samples\":40,\"suspicions\":[{\"pid\":7,\"tgid\":7,\"comm\":\"spin\",\"vcpu\":1,"
                        + "\"function\":\"stuck_loop\",\"in_loop_ms\":1200,\"state\":\"stuck\"}],\"emergency\":{}}"));
        Row s = rows.get(1).children().get(0);
        assertEquals("spin (pid 7) in stuck_loop", s.label());
        assertEquals("stuck", s.value());
        assertEquals("In the loop for=1200 ms", s.children().get(5).label() + "=" + s.children().get(5).value());
        assertEquals("vCPU", s.children().get(3).label());
        assertEquals("Emergency", rows.get(2).label(), "an unknown member by its name");
        assertEquals("none", DetectorText.value("suspicions", JsonParser.parseString("[]")));
    }
}
