package io.hprobe.ui.dialogs;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.resource.JFaceResources;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.swt.widgets.Text;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import io.hprobe.ui.Messages;

/**
 * A detector's kind and JSON config. The kinds offered are the ones the design names; any other kind the
 * agent knows can be typed. Each known kind starts from a template the user edits; the agent validates.
 */
public class DetectorDialog extends FieldDialog {

    /** Kind and a starting config, with the members the agent's detectors read (native/agent/src/det_*.c). */
    private static final String[][] TEMPLATES = {
            { "emergency", "{\n  \"cve\": \"CVE-2008-0600\",\n  \"action\": \"block\",\n  \"errno\": 14\n}" }, //$NON-NLS-1$ //$NON-NLS-2$
            { "watchdog", //$NON-NLS-1$
                    "{\n  \"probe\": \"app:/apps/hb:heartbeat\",\n  \"comm\": \"hb\",\n  \"period_ms\": 1000\n}" }, //$NON-NLS-1$
            { "loop", //$NON-NLS-1$
                    "{\n  \"scope\": \"all\",\n  \"period_ms\": 250,\n  \"window_ms\": 1000,\n  \"confirm_ms\": 1000\n}" }, //$NON-NLS-1$
    };

    private @Nullable Combo kindCombo;
    private @Nullable Text configText;
    private final @Nullable String initialKind;
    private final @Nullable JsonObject initialConfig;
    private String kind = ""; //$NON-NLS-1$
    private JsonObject config = new JsonObject();

    public DetectorDialog(@Nullable Shell parent, @Nullable String kind, @Nullable JsonObject config) {
        super(parent);
        this.initialKind = kind;
        this.initialConfig = config;
    }

    @Override
    protected Control createDialogArea(Composite parent) {
        Composite area = (Composite) super.createDialogArea(parent);
        setTitle(Messages.Detector_title);
        setMessage(Messages.Detector_message);
        getShell().setText(Messages.Detector_title);
        Composite c = new Composite(area, SWT.NONE);
        c.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        c.setLayout(new GridLayout(2, false));
        new Label(c, SWT.NONE).setText(Messages.Detector_kind);
        Combo k = new Combo(c, SWT.DROP_DOWN);
        for (String[] t : TEMPLATES) {
            k.add(t[0]);
        }
        k.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        kindCombo = k;
        Label l = new Label(c, SWT.NONE);
        l.setText(Messages.Detector_config);
        l.setLayoutData(new GridData(SWT.BEGINNING, SWT.TOP, false, false));
        Text t = new Text(c, SWT.BORDER | SWT.MULTI | SWT.V_SCROLL | SWT.H_SCROLL);
        t.setFont(JFaceResources.getTextFont());
        GridData d = new GridData(SWT.FILL, SWT.FILL, true, true);
        d.widthHint = 420;
        d.heightHint = 200;
        t.setLayoutData(d);
        configText = t;
        k.addListener(SWT.Selection, e -> t.setText(TEMPLATES[Math.max(0, k.getSelectionIndex())][1]));
        String ik = initialKind;
        JsonObject ic = initialConfig;
        if (ik != null) {
            k.setText(ik);
            t.setText(ic == null ? "{}" : new GsonBuilder().setPrettyPrinting().create().toJson(ic)); //$NON-NLS-1$
        } else {
            k.select(0);
            t.setText(TEMPLATES[0][1]);
        }
        return area;
    }

    @Override
    protected void okPressed() {
        Combo k = kindCombo;
        Text t = configText;
        if (k == null || t == null) {
            return;
        }
        String kd = k.getText().trim();
        if (kd.isEmpty()) {
            setErrorMessage(Messages.Detector_needKind);
            return;
        }
        try {
            JsonElement e = JsonParser.parseString(t.getText());
            if (!(e instanceof JsonObject o)) {
                setErrorMessage(Messages.Detector_needObject);
                return;
            }
            kind = kd;
            config = o;
        } catch (JsonParseException e) {
            setErrorMessage(Messages.Detector_badJson + ' ' + e.getMessage());
            return;
        }
        super.okPressed();
    }

    public String kind() {
        return kind;
    }

    public JsonObject config() {
        return config;
    }
}
