package io.jcircuit.codec;

import org.apache.fory.Fory;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.serializer.Serializer;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Internet addresses, which Fory does not rebuild: it writes an {@code InetAddress} through the class's
 * {@code writeReplace} and reads it back either broken (its holder null, found only when a method of it
 * is called) or not at all, and an {@code InetSocketAddress} holds one. A probe sent the loopback address
 * as an argument and lost the link over it. Each is written as what names it: the host name it was made with,
 * if any (never looked up), its address bytes and, for IPv6, its scope id; a socket address as that and its
 * port, or as its host name and port when unresolved.
 */
final class NetSerializers {

    private NetSerializers() {
    }

    static void register(Fory fory) {
        fory.registerSerializer(Inet4Address.class, f -> new AddressSerializer<>(f, Inet4Address.class));
        fory.registerSerializer(Inet6Address.class, f -> new AddressSerializer<>(f, Inet6Address.class));
        fory.registerSerializer(InetSocketAddress.class, SocketAddressSerializer::new);
    }

    /** The host name an address was made with, or null: {@code toString} says it without a lookup. */
    private static String givenName(InetAddress a) {
        String s = a.toString();
        int slash = s.lastIndexOf('/');
        return slash <= 0 ? null : s.substring(0, slash);
    }

    private static void writeAddress(Fory fory, MemoryBuffer buffer, InetAddress a) {
        String name = givenName(a);
        buffer.writeBoolean(name != null);
        if (name != null) {
            fory.writeString(buffer, name);
        }
        byte[] bytes = a.getAddress();
        buffer.writeByte(bytes.length);
        buffer.writeBytes(bytes);
        buffer.writeInt32(a instanceof Inet6Address six ? six.getScopeId() : 0);
    }

    private static InetAddress readAddress(MemoryBuffer buffer) {
        String name = buffer.readBoolean() ? WireReads.readString(buffer, "an address's host name") : null;
        int length = buffer.readByte();
        if (length != 4 && length != 16) {
            throw new CodecException("an internet address of " + length + " bytes, not 4 or 16");
        }
        byte[] bytes = buffer.readBytes(length);
        int scope = buffer.readInt32();
        try {
            return scope != 0 && length == 16 ? Inet6Address.getByAddress(name, bytes, scope) : InetAddress.getByAddress(name, bytes);
        } catch (UnknownHostException cannotBe) { // only for a length other than 4 or 16, refused above
            throw new CodecException("an internet address that does not read: " + cannotBe.getMessage());
        }
    }

    private static final class AddressSerializer<T extends InetAddress> extends Serializer<T> {
        AddressSerializer(Fory fory, Class<T> type) {
            super(fory, type);
        }

        @Override
        public void write(MemoryBuffer buffer, T value) {
            writeAddress(fory, buffer, value);
        }

        @Override
        public T read(MemoryBuffer buffer) {
            InetAddress a = readAddress(buffer);
            if (!type.isInstance(a)) {
                // getByAddress makes an IPv4 address of an IPv4-mapped IPv6 one, as the JDK's own reading does not
                throw new CodecException("an " + type.getSimpleName() + " that reads as an " + a.getClass().getSimpleName());
            }
            return type.cast(a);
        }
    }

    private static final class SocketAddressSerializer extends Serializer<InetSocketAddress> {
        SocketAddressSerializer(Fory fory) {
            super(fory, InetSocketAddress.class);
        }

        @Override
        public void write(MemoryBuffer buffer, InetSocketAddress value) {
            buffer.writeBoolean(value.isUnresolved());
            if (value.isUnresolved()) {
                fory.writeString(buffer, value.getHostString());
            } else {
                writeAddress(fory, buffer, value.getAddress());
            }
            buffer.writeInt32(value.getPort());
        }

        @Override
        public InetSocketAddress read(MemoryBuffer buffer) {
            boolean unresolved = buffer.readBoolean();
            String host = unresolved ? WireReads.readString(buffer, "a socket address's host") : null;
            InetAddress address = unresolved ? null : readAddress(buffer);
            int port = buffer.readInt32();
            if (port < 0 || port > 0xFFFF) {
                throw new CodecException("a socket address with port " + port);
            }
            return unresolved ? InetSocketAddress.createUnresolved(host, port) : new InetSocketAddress(address, port);
        }
    }
}
