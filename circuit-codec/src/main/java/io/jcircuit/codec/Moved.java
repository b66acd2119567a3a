package io.jcircuit.codec;

import java.io.Serial;
import java.io.Serializable;

/**
 * The answer a hot-swapped export gives instead of running a call: the object moved to
 * {@code replacement} (a reference), and the caller should send the call there. The call did not run
 * here, so resending it is safe. Only the runtime makes these; no application method returns one.
 */
public record Moved(Object replacement) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;
}
