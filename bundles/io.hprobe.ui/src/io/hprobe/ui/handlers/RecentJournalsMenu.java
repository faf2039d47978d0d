package io.hprobe.ui.handlers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.eclipse.jface.action.Action;
import org.eclipse.jface.action.ActionContributionItem;
import org.eclipse.jface.action.IContributionItem;
import org.eclipse.jface.action.Separator;
import org.eclipse.osgi.util.NLS;
import org.eclipse.ui.actions.CompoundContributionItem;

import io.hprobe.ui.Messages;
import io.hprobe.ui.internal.RecentJournals;

/** File > Recent Journals: the journals opened last, numbered as Eclipse numbers recent files, and Clear. */
public class RecentJournalsMenu extends CompoundContributionItem {

    @Override
    protected IContributionItem[] getContributionItems() {
        List<Path> recent = RecentJournals.list();
        List<IContributionItem> items = new ArrayList<>();
        if (recent.isEmpty()) {
            Action none = new Action(Messages.Journal_recentNone) {
            };
            none.setEnabled(false);
            items.add(new ActionContributionItem(none));
            return items.toArray(new IContributionItem[0]);
        }
        int n = 1;
        for (Path p : recent) {
            Path name = p.getFileName();
            // "&" would be taken as a mnemonic
            String label = NLS.bind(Messages.Journal_recentItem, n++,
                    (name == null ? p : name).toString().replace("&", "&&")); //$NON-NLS-1$ //$NON-NLS-2$
            Action a = new Action(label) {

                @Override
                public void run() {
                    OpenJournalHandler.open(p);
                }
            };
            a.setToolTipText(p.toString());
            items.add(new ActionContributionItem(a));
        }
        items.add(new Separator());
        items.add(new ActionContributionItem(new Action(Messages.Journal_recentClear) {

            @Override
            public void run() {
                RecentJournals.clear();
            }
        }));
        return items.toArray(new IContributionItem[0]);
    }
}
