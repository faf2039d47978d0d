package io.hprobe.ui.preferences;

import org.eclipse.jface.preference.BooleanFieldEditor;
import org.eclipse.jface.preference.ColorFieldEditor;
import org.eclipse.jface.preference.DirectoryFieldEditor;
import org.eclipse.jface.preference.FieldEditorPreferencePage;
import org.eclipse.jface.preference.FileFieldEditor;
import org.eclipse.jface.preference.IntegerFieldEditor;
import org.eclipse.jface.preference.RadioGroupFieldEditor;
import org.eclipse.jface.preference.StringFieldEditor;
import org.eclipse.ui.IWorkbench;
import org.eclipse.ui.IWorkbenchPreferencePage;

import io.hprobe.ui.Messages;

/** Window > Preferences > HProbe: the agent, memory, timeline, colours and probe defaults. */
public class HProbePreferencePage extends FieldEditorPreferencePage implements IWorkbenchPreferencePage {

    public HProbePreferencePage() {
        super(GRID);
        setDescription(Messages.Prefs_description);
    }

    @Override
    public void init(IWorkbench workbench) {
        setPreferenceStore(Prefs.store());
    }

    @Override
    protected void createFieldEditors() {
        addField(new StringFieldEditor(Prefs.AGENT_SOCKET, Messages.Prefs_socket, getFieldEditorParent()));
        addField(new FileFieldEditor(Prefs.AGENT_BINARY, Messages.Prefs_binary, getFieldEditorParent()));
        addField(new DirectoryFieldEditor(Prefs.AGENT_STATE_DIR, Messages.Prefs_stateDir, getFieldEditorParent()));
        addField(new BooleanFieldEditor(Prefs.AGENT_START, Messages.Prefs_start, getFieldEditorParent()));
        IntegerFieldEditor cap = new IntegerFieldEditor(Prefs.HIT_CAPACITY, Messages.Prefs_capacity,
                getFieldEditorParent());
        cap.setValidRange(65536, 50_000_000);
        addField(cap);
        IntegerFieldEditor window = new IntegerFieldEditor(Prefs.TIMELINE_WINDOW_S, Messages.Prefs_window,
                getFieldEditorParent());
        window.setValidRange(1, 86400);
        addField(window);
        addField(new RadioGroupFieldEditor(Prefs.TIMELINE_LANES, Messages.Prefs_lanes, 2,
                new String[][]{ { Messages.Timeline_lanesProbe, "probe" }, //$NON-NLS-1$
                        { Messages.Timeline_lanesProcess, "process" } }, //$NON-NLS-1$
                getFieldEditorParent(), true));
        IntegerFieldEditor args = new IntegerFieldEditor(Prefs.PROBE_ARGS, Messages.Prefs_args, getFieldEditorParent());
        args.setValidRange(0, 6);
        addField(args);
        IntegerFieldEditor smp = new IntegerFieldEditor(Prefs.LAB_SMP, Messages.Prefs_smp, getFieldEditorParent());
        smp.setValidRange(1, 64);
        addField(smp);
        IntegerFieldEditor mem = new IntegerFieldEditor(Prefs.LAB_MEM, Messages.Prefs_mem, getFieldEditorParent());
        mem.setValidRange(128, 65536);
        addField(mem);
        addField(new StringFieldEditor(Prefs.LIBVIRT_URI, Messages.Prefs_libvirtUri, getFieldEditorParent()));
        addField(new StringFieldEditor(Prefs.SSH_COMMAND, Messages.Prefs_ssh, getFieldEditorParent()));
        addField(new ColorFieldEditor(Prefs.COLOR_BACK_EDGE, Messages.Prefs_backEdge, getFieldEditorParent()));
        addField(new ColorFieldEditor(Prefs.COLOR_ALERT, Messages.Prefs_alert, getFieldEditorParent()));
    }
}
