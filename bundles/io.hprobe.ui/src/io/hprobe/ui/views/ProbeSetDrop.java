package io.hprobe.ui.views;

import java.nio.file.Path;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.TreeViewer;
import org.eclipse.jface.viewers.ViewerDropAdapter;
import org.eclipse.swt.dnd.DND;
import org.eclipse.swt.dnd.FileTransfer;
import org.eclipse.swt.dnd.Transfer;
import org.eclipse.swt.dnd.TransferData;

import io.hprobe.core.model.Vm;
import io.hprobe.ui.internal.ProbeSets;

/** Probe set files dropped on a live VM in the VM Browser load into it, as File > Open Probe Set does. */
public final class ProbeSetDrop {

    private ProbeSetDrop() {
    }

    static void install(TreeViewer v) {
        v.addDropSupport(DND.DROP_COPY | DND.DROP_MOVE | DND.DROP_DEFAULT, new Transfer[]{ FileTransfer.getInstance() },
                new ViewerDropAdapter(v) {

                    @Override
                    public boolean validateDrop(@Nullable Object target, int operation, @Nullable TransferData type) {
                        overrideOperation(DND.DROP_COPY); // the file stays where it is
                        return target instanceof Vm vm && vm.isLive() && type != null
                                && FileTransfer.getInstance().isSupportedType(type);
                    }

                    @Override
                    public boolean performDrop(@Nullable Object data) {
                        return ProbeSetDrop.drop(getCurrentTarget(), data);
                    }
                });
    }

    /** What a drop does: each file (a FileTransfer's String[]) loads into the VM. False if nothing was done. */
    public static boolean drop(@Nullable Object target, @Nullable Object data) {
        if (!(target instanceof Vm vm) || !vm.isLive() || !(data instanceof String[] files)) {
            return false;
        }
        for (String f : files) {
            ProbeSets.open(vm, Path.of(f));
        }
        return files.length > 0;
    }
}
