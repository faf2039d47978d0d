package io.hprobe.core.journal;

/** Progress and cancellation of a long operation, so core needs no IProgressMonitor. */
public interface ProgressSink {

    /** A sink that reports nowhere and never cancels. */
    ProgressSink NONE = new ProgressSink() {

        @Override
        public void progress(long done, long total) {
            // nobody listens
        }

        @Override
        public boolean isCancelled() {
            return false;
        }
    };

    /** done out of total units (bytes of input here). */
    void progress(long done, long total);

    boolean isCancelled();
}
