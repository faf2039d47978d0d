package io.hprobe.ui.dialogs;

import java.util.LinkedHashMap;
import java.util.Map;

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

import io.hprobe.core.model.DetectorKinds;
import io.hprobe.core.model.DetectorKinds.Field;
import io.hprobe.ui.Messages;

/**
 * A detector's kind and configuration: a form for the kinds the workbench knows (DetectorKinds owns their
 * fields), JSON for any other kind the agent may know, or a configuration the form cannot hold. The agent
 * checks what is sent.
 */
public class DetectorDialog extends FieldDialog {

    private @Nullable Combo kindCombo;
    private @Nullable Composite form;
    private final Map<String, Control> fields = new LinkedHashMap<>();
    private @Nullable Text json;
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
        DetectorKinds.kinds().forEach(k::add);
        k.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        kindCombo = k;
        Composite f = new Composite(c, SWT.NONE);
        GridData fd = new GridData(SWT.FILL, SWT.FILL, true, true, 2, 1);
        fd.widthHint = 460;
        f.setLayoutData(fd);
        f.setLayout(new GridLayout(2, false));
        form = f;
        k.addListener(SWT.Selection, e -> build(k.getText(), null));
        k.addListener(SWT.DefaultSelection, e -> build(k.getText(), null));
        String ik = initialKind;
        k.setText(ik != null ? ik : DetectorKinds.kinds().get(0));
        build(k.getText(), initialConfig);
        return area;
    }

    /** The form of a kind (its fields, or JSON), filled from config or with each field's start. */
    private void build(String kd, @Nullable JsonObject from) {
        Composite f = form;
        if (f == null) {
            return;
        }
        for (Control child : f.getChildren()) {
            child.dispose();
        }
        fields.clear();
        json = null;
        boolean fits = from == null || from.keySet().stream()
                .allMatch(key -> DetectorKinds.fields(kd).stream().anyMatch(x -> x.key().equals(key)));
        if (DetectorKinds.fields(kd).isEmpty() || !fits) {
            Label l = new Label(f, SWT.NONE);
            l.setText(Messages.Detector_config);
            l.setLayoutData(new GridData(SWT.BEGINNING, SWT.TOP, false, false));
            Text t = new Text(f, SWT.BORDER | SWT.MULTI | SWT.V_SCROLL | SWT.H_SCROLL);
            t.setFont(JFaceResources.getTextFont());
            GridData d = new GridData(SWT.FILL, SWT.FILL, true, true);
            d.heightHint = 160;
            t.setLayoutData(d);
            t.setText(from == null ? "{}" : new GsonBuilder().setPrettyPrinting().create().toJson(from)); //$NON-NLS-1$
            json = t;
        } else {
            for (Field x : DetectorKinds.fields(kd)) {
                new Label(f, SWT.NONE).setText(x.label() + ':');
                String v = from != null ? DetectorKinds.shown(from, x) : x.start();
                Control w;
                if (x.type() == DetectorKinds.Type.CHOICE) {
                    Combo cb = new Combo(f, SWT.DROP_DOWN | SWT.READ_ONLY);
                    if (!x.required()) {
                        cb.add(""); //$NON-NLS-1$
                    }
                    x.choices().forEach(cb::add);
                    cb.setText(v);
                    w = cb;
                } else {
                    Text t = new Text(f, SWT.BORDER);
                    t.setMessage(x.required() ? x.hint() : Messages.Detector_optional + x.hint());
                    t.setText(v);
                    w = t;
                }
                w.setData(x.key());
                w.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
                fields.put(x.key(), w);
            }
        }
        f.layout(true, true);
        Shell s = getShell();
        if (s != null && s.isVisible()) {
            s.pack();
        }
    }

    /** Each kind's form has its own height: only the place is kept. */
    @Override
    protected int getDialogBoundsStrategy() {
        return DIALOG_PERSISTLOCATION;
    }

    @Override
    protected void okPressed() {
        Combo k = kindCombo;
        if (k == null) {
            return;
        }
        String kd = k.getText().trim();
        if (kd.isEmpty()) {
            setErrorMessage(Messages.Detector_needKind);
            return;
        }
        Text t = json;
        if (t != null) {
            try {
                JsonElement e = JsonParser.parseString(t.getText());
                if (!(e instanceof JsonObject o)) {
                    setErrorMessage(Messages.Detector_needObject);
                    return;
                }
                config = o;
            } catch (JsonParseException e) {
                setErrorMessage(Messages.Detector_badJson + ' ' + e.getMessage());
                return;
            }
        } else {
            Map<String, String> values = new LinkedHashMap<>();
            fields.forEach((key, w) -> values.put(key, w instanceof Combo cb ? cb.getText() : ((Text) w).getText()));
            try {
                config = DetectorKinds.config(kd, values);
            } catch (IllegalArgumentException e) {
                setErrorMessage(e.getMessage());
                return;
            }
        }
        kind = kd;
        super.okPressed();
    }

    public String kind() {
        return kind;
    }

    public JsonObject config() {
        return config;
    }
}
