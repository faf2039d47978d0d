package io.hprobe.core.journal;

/** A journal could not be opened or read, or libhprobe is not there; the message says which. */
public class JournalException extends Exception {

    private static final long serialVersionUID = 1L;

    public JournalException(String message) {
        super(message);
    }
}
