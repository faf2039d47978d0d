package io.hprobe.ui.views;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Group;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Spinner;
import org.eclipse.swt.widgets.Text;

import io.hprobe.core.model.ProbeRequest;
import io.hprobe.ui.Messages;
import io.hprobe.ui.preferences.Prefs;

/** The probe form of the Probe Editor: where, what to capture, which processes, capture, count or aggregate. */
final class ProbeForm {

    private final Text spec;
    private final Spinner args;
    private final Text mem;
    private final Button regs;
    private final Text pid;
    private final Text comm;
    private final Button count;
    private final Button enabled;
    private final Text cond;
    private final Text agg;
    private final Button add;

    ProbeForm(Composite parent, Runnable onAdd) {
        Group g = new Group(parent, SWT.NONE);
        g.setText(Messages.ProbeForm_title);
        GridLayout gl = new GridLayout(9, false);
        gl.marginHeight = 2;
        gl.verticalSpacing = 3;
        g.setLayout(gl);
        g.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, false));
        // row 1: where, how many arguments, add
        spec = text(g, Messages.ProbeForm_spec, Messages.ProbeForm_specHint, 5);
        new Label(g, SWT.NONE).setText(Messages.ProbeForm_args);
        args = new Spinner(g, SWT.BORDER);
        args.setValues(Prefs.store().getInt(Prefs.PROBE_ARGS), 0, 6, 0, 1, 1);
        args.setToolTipText(Messages.ProbeForm_argsTip);
        add = new Button(g, SWT.PUSH);
        add.setText(Messages.ProbeForm_add);
        add.setToolTipText(Messages.ProbeForm_addTip);
        add.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, false, false));
        add.addListener(SWT.Selection, e -> onAdd.run());
        // row 2: process filter, memory, flags
        pid = text(g, Messages.ProbeForm_pid, Messages.ProbeForm_pidHint, 1);
        comm = text(g, Messages.ProbeForm_comm, Messages.ProbeForm_commHint, 1);
        mem = text(g, Messages.ProbeForm_mem, Messages.ProbeForm_memHint, 1);
        regs = new Button(g, SWT.CHECK);
        regs.setText(Messages.ProbeForm_regs);
        count = new Button(g, SWT.CHECK);
        count.setText(Messages.ProbeForm_count);
        count.setToolTipText(Messages.ProbeForm_countTip);
        enabled = new Button(g, SWT.CHECK);
        enabled.setText(Messages.ProbeForm_enabled);
        enabled.setSelection(true);
        // row 3: the condition and the aggregation, compiled by the agent (its errors name the column)
        cond = text(g, Messages.ProbeForm_if, Messages.ProbeForm_ifHint, 3);
        cond.setToolTipText(Messages.ProbeForm_ifTip);
        agg = text(g, Messages.ProbeForm_agg, Messages.ProbeForm_aggHint, 4);
        agg.setToolTipText(Messages.ProbeForm_aggTip);
    }

    private static Text text(Composite g, String label, String hint, int span) {
        new Label(g, SWT.NONE).setText(label);
        Text t = new Text(g, SWT.BORDER);
        t.setMessage(hint);
        GridData d = new GridData(SWT.FILL, SWT.CENTER, true, false, span, 1);
        d.widthHint = 80;
        t.setLayoutData(d);
        return t;
    }

    void setSpec(String s) {
        spec.setText(s);
    }

    String spec() {
        return spec.getText().trim();
    }

    void setEnabled(boolean on) {
        add.setEnabled(on);
    }

    /** The request for a spec with the form's options; null with an invalid pid. */
    @Nullable
    ProbeRequest request(String where) {
        int p = -1;
        String pidText = pid.getText().trim();
        if (!pidText.isEmpty()) {
            try {
                p = Integer.parseInt(pidText);
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return new ProbeRequest(where, args.getSelection(), mem.getText(), regs.getSelection(), p, comm.getText(),
                count.getSelection(), enabled.getSelection(), cond.getText(), agg.getText());
    }
}
