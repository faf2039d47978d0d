package io.hprobe.core.model;

/**
 * Told about model changes, on whatever thread made them (usually a connection's reader thread): a UI
 * listener hands over to its display thread and must not block.
 */
@FunctionalInterface
public interface ModelListener {

    void modelChanged(ModelChange change);
}
