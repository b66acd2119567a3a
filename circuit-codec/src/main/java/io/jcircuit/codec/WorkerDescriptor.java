package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.Worker;
import io.jcircuit.WorkerId;

/** A {@link Worker} handle as it travels. */
public record WorkerDescriptor(WorkerId id, Address address) {
}
