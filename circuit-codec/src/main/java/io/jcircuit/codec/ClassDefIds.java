package io.jcircuit.codec;

import io.jcircuit.WorkerId;
import org.apache.fory.memory.MemoryBuffer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The class-definition ids one codec has let peers introduce, and the check of each id a peer sends.
 *
 * <p>Fory 0.13 keys what it builds for a class definition by the definition's 64-bit id, never by its
 * content: each Fory instance caches the parsed definition by id, and for each id it has not met it
 * generates, compiles and loads a serializer class, named after a process-wide counter of ids
 * ({@code MetaSharedCodecBuilder.idGenerator}, static and never cleared), so the class is never
 * unloaded. Fory writes the id as a hash of the definition's bytes (below) but never checks it on
 * reading: every id a peer makes up cost a new class (~15 ms and ~4.7 KB of metaspace, for good).
 * So the codec refuses
 * <ul>
 *   <li>a definition whose id does not match its bytes (no Fory encoder writes one). This also keeps
 *       a peer from sending another definition under a known id, which a Fory instance that had not
 *       met that id yet would cache and then read other peers' values by;</li>
 *   <li>a definition with an id not met before once {@code maxIds} ids have been let in, or once
 *       this peer has introduced {@code maxIdsPerPeer}: a peer that varies the content (and so the
 *       hash) of definitions still costs a class each, up to these bounds. Local copies and stored
 *       values (no peer) count against {@code maxIds} only. An id is let in once its definition
 *       has been checked, before Fory reads the message: it stays let in if Fory then refuses it.</li>
 * </ul>
 * Once the bounds are reached, a message that introduces a definition is refused, whoever sent it,
 * until the codec is rebuilt (the classes Fory generated stay loaded anyway).
 * The id, as {@code ClassDefEncoder.prependHeader} writes it (little-endian int64):
 * <pre>
 *  | bits 0-11: size (0xfff: + varuint) | 12: has fields | 13: compressed | 14-63: hash |
 *  hash bits = abs(murmur3_x64_128(def bytes as sent, seed 47).h1 &lt;&lt; 14)
 * </pre>
 *
 * <p>Thread-safe. Checking a known id allocates nothing and takes no lock: the known ids are a sorted
 * array, replaced (under the lock) when one is let in.
 */
final class ClassDefIds {

    /** Distinct class definitions one codec lets peers introduce: far more than a circuit's value classes. */
    static final int DEFAULT_MAX_IDS = 1024;
    /** Distinct class definitions one peer may introduce, so that one peer cannot use up the others' room. */
    static final int DEFAULT_MAX_IDS_PER_PEER = 256;

    private static final int HASH_SHIFT = 14;
    private static final long HASH_BITS = -1L << HASH_SHIFT;
    private static final int SEED = 47;

    private final int maxIds;
    private final int maxIdsPerPeer;
    private volatile long[] known = new long[0];
    /** Guarded by {@code this}. Has at most {@code maxIds} keys: only a peer that introduces an id gets one. Never shrinks. */
    private final Map<WorkerId, Integer> introducedBy = new HashMap<>();

    ClassDefIds(int maxIds, int maxIdsPerPeer) {
        if (maxIds < 1 || maxIdsPerPeer < 1) {
            throw new IllegalArgumentException("maxIds=" + maxIds + " and maxIdsPerPeer=" + maxIdsPerPeer + " must be positive");
        }
        this.maxIds = maxIds;
        this.maxIdsPerPeer = maxIdsPerPeer;
    }

    /**
     * Checks the definition with {@code id} whose {@code size} bytes (as sent, compressed or not) start
     * at {@code pos} of {@code buffer}, sent by {@code peer} (null for a local copy or a stored value).
     *
     * @throws CodecException when the id does not match the bytes, or is new and over a bound
     */
    void check(long id, MemoryBuffer buffer, int pos, int size, WorkerId peer) {
        long expected = Math.abs(murmur3H1(buffer, pos, size) << HASH_SHIFT);
        if ((id & HASH_BITS) != expected) {
            throw new CodecException("a class definition's id " + Long.toHexString(id)
                + " does not match the hash of its " + size + " bytes");
        }
        if (Arrays.binarySearch(known, id) < 0) {
            admit(id, peer);
        }
    }

    private synchronized void admit(long id, WorkerId peer) {
        long[] ids = known;
        int at = Arrays.binarySearch(ids, id);
        if (at >= 0) {
            return;
        }
        int byPeer = peer == null ? 0 : introducedBy.getOrDefault(peer, 0);
        if (ids.length >= maxIds || byPeer >= maxIdsPerPeer) {
            throw new CodecException("a class definition not met before (id " + Long.toHexString(id) + ") from "
                + (peer == null ? "a local copy" : peer) + ", over the bound: " + ids.length + " of at most " + maxIds
                + " let in, " + byPeer + " of at most " + maxIdsPerPeer + " by this peer");
        }
        int insert = -at - 1;
        long[] grown = new long[ids.length + 1];
        System.arraycopy(ids, 0, grown, 0, insert);
        grown[insert] = id;
        System.arraycopy(ids, insert, grown, insert + 1, ids.length - insert);
        if (peer != null) {
            introducedBy.put(peer, byPeer + 1);
        }
        known = grown;
    }

    /**
     * The first half of MurmurHash3 x64_128 of {@code len} bytes at {@code offset}, as Fory's
     * {@code MurmurHash3.murmurhash3_x64_128(bytes, offset, len, 47)[0]} computes it, read in place
     * (the buffer may be off-heap) and allocating nothing.
     */
    static long murmur3H1(MemoryBuffer b, int offset, int len) {
        final long c1 = 0x87c37b91114253d5L;
        final long c2 = 0x4cf5ad432745937fL;
        long h1 = SEED;
        long h2 = SEED;
        int roundedEnd = offset + (len & 0xFFFFFFF0);
        for (int i = offset; i < roundedEnd; i += 16) {
            long k1 = b.getInt64(i);
            long k2 = b.getInt64(i + 8);
            h1 ^= Long.rotateLeft(k1 * c1, 31) * c2;
            h1 = Long.rotateLeft(h1, 27) + h2;
            h1 = h1 * 5 + 0x52dce729;
            h2 ^= Long.rotateLeft(k2 * c2, 33) * c1;
            h2 = Long.rotateLeft(h2, 31) + h1;
            h2 = h2 * 5 + 0x38495ab5;
        }
        int tail = len & 15;
        if (tail > 8) {
            long k2 = 0;
            for (int i = tail - 1; i >= 8; i--) {
                k2 = k2 << 8 | (b.getByte(roundedEnd + i) & 0xffL);
            }
            h2 ^= Long.rotateLeft(k2 * c2, 33) * c1;
        }
        if (tail > 0) {
            long k1 = 0;
            for (int i = Math.min(tail, 8) - 1; i >= 0; i--) {
                k1 = k1 << 8 | (b.getByte(roundedEnd + i) & 0xffL);
            }
            h1 ^= Long.rotateLeft(k1 * c1, 31) * c2;
        }
        h1 ^= len;
        h2 ^= len;
        h1 += h2;
        h2 += h1;
        h1 = fmix64(h1);
        h2 = fmix64(h2);
        return h1 + h2;
    }

    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }
}
