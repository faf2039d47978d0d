package io.hprobe.ui.views;

import java.nio.file.Path;

import org.eclipse.jdt.annotation.Nullable;
import org.eclipse.jface.viewers.TreeViewer;
import org.eclipse.jface.viewers.ViewerDropAdapter;
import org.eclipse.swt.dnd.DND;
import org.eclipse.swt.dnd.DropTarget;
import org.eclipse.swt.dnd.DropTargetAdapter;
import org.eclipse.swt.dnd.DropTargetEvent;
import org.eclipse.swt.dnd.FileTransfer;
import org.eclipse.swt.dnd.Transfer;
import org.eclipse.swt.dnd.TransferData;
import org.eclipse.swt.widgets.Control;

import io.hprobe.core.journal.JournalException;
import io.hprobe.core.journal.Journals;
import io.hprobe.core.model.Vm;
import io.hprobe.ui.handlers.OpenJournalHandler;
import io.hprobe.ui.internal.ProbeSets;

/**
 * Files dropped on the workbench: a journal (a file whose header libhprobe reads) opens offline wherever it
 * is dropped, as File > Open Journal does; a probe set dropped on a live VM in the VM Browser loads into it,
 * as File > Open Probe Set does.
 */
public final class FileDrop {

    private static final int OPS = DND.DROP_COPY | DND.DROP_MOVE | DND.DROP_DEFAULT;

    private FileDrop() {
    }

    /** The VM Browser: any file anywhere in it; a probe set needs a live VM under it. */
    static void install(TreeViewer v) {
        v.addDropSupport(OPS, new Transfer[]{ FileTransfer.getInstance() }, new ViewerDropAdapter(v) {

            @Override
            public boolean validateDrop(@Nullable Object target, int operation, @Nullable TransferData type) {
                overrideOperation(DND.DROP_COPY); // the file stays where it is
                return type != null && FileTransfer.getInstance().isSupportedType(type);
            }

            @Override
            public boolean performDrop(@Nullable Object data) {
                return FileDrop.drop(getCurrentTarget(), data);
            }
        });
    }

    /** The whole window (its parts without a drop target of their own): journals. */
    public static void install(Control c) {
        DropTarget t = new DropTarget(c, OPS);
        t.setTransfer(FileTransfer.getInstance());
        t.addDropListener(new DropTargetAdapter() {

            @Override
            public void dragEnter(DropTargetEvent e) {
                e.detail = DND.DROP_COPY;
            }

            @Override
            public void drop(DropTargetEvent e) {
                FileDrop.drop(null, e.data);
            }
        });
    }

    /**
     * What a drop does: each file (a FileTransfer's String[]) that is a journal opens; each other one loads
     * into target when that is a live VM. False if nothing was done.
     */
    public static boolean drop(@Nullable Object target, @Nullable Object data) {
        if (!(data instanceof String[] files)) {
            return false;
        }
        boolean done = false;
        for (String f : files) {
            Path p = Path.of(f);
            if (isJournal(p)) {
                OpenJournalHandler.open(p);
                done = true;
            } else if (target instanceof Vm vm && vm.isLive()) {
                ProbeSets.open(vm, p);
                done = true;
            }
        }
        return done;
    }

    private static boolean isJournal(Path p) {
        try {
            Journals.meta(p);
            return true;
        } catch (JournalException e) {
            return false;
        }
    }
}
