package io.jcircuit.runtime.ops;

import io.jcircuit.Circuit;
import io.jcircuit.Fn;

import java.io.Serial;
import java.util.List;

/**
 * Files the worker it runs on under {@code anchors} again: a hot swap that took its services back
 * after the worker's drain had withdrawn its anchors ({@link Ops#drain}) runs it there with {@code go},
 * so that the service is found where it was. Returns the anchors filed.
 *
 * @param anchors  the directories to file the worker under
 * @param metadata per directory, the metadata to file it with there (what it had before the drain)
 */
public record Refile(List<String> anchors, java.util.Map<String, java.util.Map<String, String>> metadata)
    implements Fn<List<String>> {

    @Serial
    private static final long serialVersionUID = 1L;

    public Refile {
        anchors = List.copyOf(anchors);
        metadata = metadata == null ? java.util.Map.of() : java.util.Map.copyOf(metadata);
    }

    @Override
    public List<String> call() {
        Circuit here = Circuit.current();
        for (String a : anchors) {
            here.anchors().file(a, metadata.getOrDefault(a, java.util.Map.of()));
        }
        return anchors;
    }
}
