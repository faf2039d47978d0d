package io.hprobe.ui.views;

import java.util.regex.Pattern;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.resource.JFaceResources;
import org.eclipse.osgi.util.NLS;
import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.StyledText;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Text;

import io.hprobe.core.model.Agent;
import io.hprobe.core.model.ModelChange;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.Jobs;

/**
 * The serial console of the selected VM (vm-console): the guest's output, read while the view is
 * visible, and an input line whose text is typed into the guest with Enter.
 */
public class ConsoleView extends HProbeView {

    public static final String ID = "io.hprobe.ui.console"; //$NON-NLS-1$
    private static final int POLL_MS = 500;
    /**
     * Terminal escapes (the shell asks for the cursor position, colours): not for a text widget. The agent
     * hands ESC over as '.', so the shell's cursor query ".[6n" is dropped in that form too.
     */
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;?]*[A-Za-z]|\u001b[()][A-Z0-9]|\\.\\[6n|\r"); //$NON-NLS-1$

    private @Nullable StyledText output;
    private @Nullable Text input;
    private @Nullable Label title;
    private int shownLength = -1;
    private @Nullable Vm shownVm;

    @Override
    protected Control createContents(Composite parent) {
        Composite top = new Composite(parent, SWT.NONE);
        GridLayout layout = new GridLayout(3, false);
        layout.marginWidth = layout.marginHeight = 2;
        top.setLayout(layout);
        Label t = new Label(top, SWT.NONE);
        t.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 3, 1));
        title = t;
        StyledText out = new StyledText(top, SWT.BORDER | SWT.MULTI | SWT.V_SCROLL | SWT.H_SCROLL | SWT.READ_ONLY);
        out.setFont(JFaceResources.getTextFont());
        out.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true, 3, 1));
        output = out;
        Label prompt = new Label(top, SWT.NONE);
        prompt.setText(Messages.Console_input);
        Text in = new Text(top, SWT.BORDER | SWT.SINGLE);
        in.setFont(JFaceResources.getTextFont());
        in.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        in.setMessage(Messages.Console_inputHint);
        in.addListener(SWT.DefaultSelection, e -> send());
        input = in;
        Button send = new Button(top, SWT.PUSH);
        send.setText(Messages.Console_send);
        send.addListener(SWT.Selection, e -> send());
        poll(top.getDisplay());
        return top;
    }

    /** Types the input line into the guest's console, with a newline. */
    private void send() {
        Text in = input;
        Vm vm = vm();
        if (in == null || vm == null) {
            return;
        }
        type(vm, in.getText() + "\n"); //$NON-NLS-1$
        in.setText(""); //$NON-NLS-1$
    }

    /** Types text into a VM's console as it is. */
    private static void type(Vm vm, String text) {
        Agent a = vm.agent();
        if (a != null) {
            Jobs.agent(NLS.bind(Messages.Job_console, vm.name()), () -> a.console(vm, text), null, true);
        }
    }

    private void poll(Display display) {
        display.timerExec(POLL_MS, () -> {
            StyledText out = output;
            if (out == null || out.isDisposed()) {
                return;
            }
            Vm vm = vm();
            Agent a = vm == null ? null : vm.agent();
            if (vm != null && a != null && vm.isLive() && getSite().getPage().isPartVisible(this)) {
                a.console(vm, null); // the model tells us when text arrived
            }
            poll(display);
        });
    }

    @Override
    protected boolean matters(ModelChange change) {
        return change.vm() == vm()
                && (change.kind() == ModelChange.Kind.CONSOLE || change.kind() == ModelChange.Kind.VM_INFO);
    }

    @Override
    protected void refresh() {
        StyledText out = output;
        Label t = title;
        if (out == null || t == null || out.isDisposed()) {
            return;
        }
        Vm vm = vm();
        if (vm != shownVm) {
            shownVm = vm;
            shownLength = -1;
            out.setText(""); //$NON-NLS-1$
        }
        t.setText(vm == null ? Messages.Console_noVm : NLS.bind(Messages.Console_title, vm.name(), vm.info().state()));
        if (vm == null) {
            return;
        }
        String all = vm.consoleText();
        if (all.length() == shownLength) {
            return;
        }
        shownLength = all.length();
        out.setText(ESCAPES.matcher(all).replaceAll("")); //$NON-NLS-1$
        out.setTopIndex(out.getLineCount() - 1);
        out.setCaretOffset(out.getCharCount());
    }

    @Override
    public void setFocus() {
        Text in = input;
        if (in != null) {
            in.setFocus();
        }
    }
}
