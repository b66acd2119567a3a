package io.jcircuit.codec;

import io.jcircuit.Address;
import io.jcircuit.WorkerId;

/**
 * A reference as it travels: the object's home worker and address, its export handle there, and the
 * name of the interface the reference implements.
 */
public record RefDescriptor(WorkerId home, Address address, long handle, String iface) {
}
