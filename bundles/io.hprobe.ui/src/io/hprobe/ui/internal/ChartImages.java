package io.hprobe.ui.internal;

import java.awt.Rectangle;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.svg.SVGGraphics2D;

/** A chart written as an image file, for reports. */
public final class ChartImages {

    private ChartImages() {
    }

    /** Writes the chart as PNG (ChartUtils) or SVG (JFreeSVG) at the given size. */
    public static void save(JFreeChart chart, Path file, boolean svg, int width, int height) throws IOException {
        if (svg) {
            SVGGraphics2D g = new SVGGraphics2D(width, height);
            chart.draw(g, new Rectangle(0, 0, width, height));
            Files.writeString(file, g.getSVGDocument(), StandardCharsets.UTF_8);
        } else {
            ChartUtils.saveChartAsPNG(file.toFile(), chart, width, height);
        }
    }
}
