import java.awt.Color;
import java.io.File;
import java.text.DecimalFormat;
import java.nio.file.Files;
import java.util.List;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Renders a benchmark figure as PNG with JFreeChart, headless (the workbench's chart
 * library, from the Maven repository the build filled). Input: a CSV of
 * "series,category,value" lines. Run by bench.py:
 *   java -Djava.awt.headless=true -cp jfreechart.jar Plot.java IN.csv OUT.png TITLE YLABEL [log]
 */
public final class Plot {
    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(new File(args[0]).toPath());
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (String line : lines) {
            String[] f = line.split(",");
            if (f.length == 3) {
                data.addValue(Double.parseDouble(f[2]), f[0], f[1]);
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(args[2], null, args[3], data, PlotOrientation.HORIZONTAL,
                data.getRowCount() > 1, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        ((BarRenderer) plot.getRenderer()).setShadowVisible(false);
        if (args.length > 4 && args[4].equals("log")) {
            LogAxis axis = new LogAxis(args[3]);
            axis.setSmallestValue(1);
            axis.setTickUnit(new NumberTickUnit(1.0)); // one tick per decade
            axis.setNumberFormatOverride(new DecimalFormat("#,##0"));
            plot.setRangeAxis(axis);
        }
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(new File(args[1]), chart, 900, 120 + 40 * data.getColumnCount());
    }
}
