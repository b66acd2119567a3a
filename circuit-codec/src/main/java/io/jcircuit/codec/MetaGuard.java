package io.jcircuit.codec;

import io.jcircuit.WorkerId;
import org.apache.fory.memory.MemoryBuffer;
import org.apache.fory.meta.DeflaterMetaCompressor;
import org.apache.fory.meta.MetaCompressor;

import java.io.ByteArrayOutputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Checks the class definitions in a Fory body before Fory reads them. Fory 0.13 decodes a class
 * definition by sizes and counts it trusts (a byte array sized by a header, a field list sized by a
 * field count, names sized by their headers) and inflates compressed ones without bound; none of
 * that goes through a serializer, so it is checked here, against the layout Fory 0.13.0 writes in
 * Java mode with scoped meta sharing:
 *
 * <pre>
 *  body:         | bitmap (1) | class defs offset (int32 LE, -1 for none) | value ... | class defs |
 *  class defs:   | count (varuint) | def | def | ...
 *  def:          | id (int64 LE: bits 0-11 size, 12 has fields, 13 compressed, 14-63 hash) | [size - 0xfff (varuint)] | size bytes |
 *  def bytes:    | classes - 1 (byte; 15 means + varuint) | class | class | ...      (inflated if compressed)
 *  class:        | fields &lt;&lt; 1 | registered (varuint) | registered id (varuint) or package name, type name |
 *                | field | field | ...
 *  name:         | size &lt;&lt; 2 | encoding (byte; size 63 means + varuint) | size bytes |
 *  field:        | name size - 1 &lt;&lt; 5 | flags (byte; 7 means + varuint) | name | type id (varuint) | nested types |
 * </pre>
 *
 * Also the {@link MetaCompressor} of every Fory instance: it compresses as Fory's
 * {@link DeflaterMetaCompressor} does, and inflates at most {@link #MAX_CLASS_DEF_BYTES}, then checks
 * the result as above. The layout is Fory's internal one: a Fory upgrade must revisit this class.
 */
final class MetaGuard implements MetaCompressor {

    /** The largest class definition this codec inflates: thousands of fields. */
    static final int MAX_CLASS_DEF_BYTES = 256 << 10;
    /** Field types (maps of lists of arrays ...) nest at most this deep. */
    static final int MAX_TYPE_DEPTH = 64;

    private static final int NIL_FLAG = 1;
    private static final int CROSS_LANGUAGE_FLAG = 1 << 2;
    private static final int OUT_OF_BAND_FLAG = 1 << 3;
    private static final int META_SIZE_MASK = 0xfff;
    private static final long COMPRESSED_FLAG = 1 << 13;
    private static final int MANY_CLASSES = 0b1111;
    private static final int BIG_NAME = 0b111111;
    private static final int BIG_FIELD_NAME = 0b111;
    private static final int MIN_FIELD_BYTES = 3; // header, a name byte, a type id byte

    private final MetaCompressor deflater = new DeflaterMetaCompressor();

    /**
     * Checks the body that Fory is about to deserialize at the reader index of {@code body}, without
     * moving it: a Java-mode, in-band body whose class definitions fit the input and declare no more
     * classes, fields or name bytes than they have bytes for, and whose ids {@code ids} accepts from
     * {@code peer} (see {@link ClassDefIds#check}). Allocates nothing for ids met before: {@code cursor}
     * is the caller's, reused across bodies (one per Fory instance; not thread-safe).
     *
     * @throws CodecException naming what does not fit
     */
    static void checkBody(MemoryBuffer body, Cursor cursor, ClassDefIds ids, WorkerId peer) {
        int start = body.readerIndex();
        int left = body.size() - start;
        if (left < 1) {
            throw new CodecException("the Fory body is empty");
        }
        int bitmap = body.getByte(start) & 0xff;
        if ((bitmap & NIL_FLAG) != 0) {
            return;
        }
        if ((bitmap & (CROSS_LANGUAGE_FLAG | OUT_OF_BAND_FLAG)) != 0) {
            throw new CodecException("the Fory body is marked cross-language or out-of-band (bitmap " + bitmap
                + "); peers write Java-mode, in-band bodies");
        }
        if (left < 5) {
            throw new CodecException("the Fory body ends in its header");
        }
        int offset = body.getByte(start + 1) & 0xff | (body.getByte(start + 2) & 0xff) << 8
            | (body.getByte(start + 3) & 0xff) << 16 | body.getByte(start + 4) << 24;
        if (offset == -1) {
            return; // the common case: no class definitions, nothing allocated
        }
        if (offset < 0 || offset > left - 5) {
            throw new CodecException("class definitions at offset " + offset + " lie outside the " + (left - 5) + " bytes left");
        }
        checkClassDefs(cursor.over(body, start + 5 + offset, body.size()), ids, peer);
    }

    private static void checkClassDefs(Cursor c, ClassDefIds ids, WorkerId peer) {
        long count = c.varuint();
        if (count > c.left() / 8) {
            throw new CodecException(count + " class definitions cannot fit in " + c.left() + " bytes");
        }
        for (long i = 0; i < count; i++) {
            long id = c.int64();
            long size = id & META_SIZE_MASK;
            if (size == META_SIZE_MASK) {
                size += c.varuint();
            }
            if (size > c.left()) {
                throw new CodecException("a class definition of " + size + " bytes exceeds the " + c.left() + " left");
            }
            int defStart = c.pos;
            int defEnd = defStart + (int) size;
            if ((id & COMPRESSED_FLAG) == 0) {
                int end = c.end;
                c.end = defEnd; // the same cursor, bounded to this definition
                checkClassDef(c);
                c.end = end;
            } // a compressed one is checked once inflated, in decompress
            ids.check(id, c.buffer, defStart, (int) size, peer);
            c.pos = defEnd;
        }
    }

    private static void checkClassDef(Cursor c) {
        long classes = c.u8();
        if (classes == MANY_CLASSES) {
            classes += c.varuint();
        }
        classes++;
        if (classes > c.left()) {
            throw new CodecException("a class definition names " + classes + " classes in " + c.left() + " bytes");
        }
        for (long i = 0; i < classes; i++) {
            long header = c.varuint();
            long fields = header >>> 1;
            if ((header & 1) != 0) {
                c.varuint(); // registered class id
            } else {
                skipName(c); // package
                skipName(c); // type
            }
            if (fields > c.left() / MIN_FIELD_BYTES) {
                throw new CodecException("a class definition declares " + fields + " fields in " + c.left() + " bytes");
            }
            for (long f = 0; f < fields; f++) {
                int fieldHeader = c.u8();
                long nameSize = fieldHeader >>> 5;
                if (nameSize == BIG_FIELD_NAME) {
                    nameSize += c.varuint();
                }
                c.skip(nameSize + 1);
                skipFieldType(c, c.varuint(), 0);
            }
        }
    }

    private static void skipName(Cursor c) {
        long size = c.u8() >>> 2;
        if (size == BIG_NAME) {
            size += c.varuint();
        }
        c.skip(size);
    }

    /** A field type as {@code ClassDef.FieldType.read} reads it: 1 map, 2 collection, 3 array nest more. */
    private static void skipFieldType(Cursor c, long typeId, int depth) {
        if (depth > MAX_TYPE_DEPTH) {
            throw new CodecException("a field type nests deeper than " + MAX_TYPE_DEPTH);
        }
        if (typeId == 1) {
            skipFieldType(c, c.varuint() >>> 2, depth + 1);
            skipFieldType(c, c.varuint() >>> 2, depth + 1);
        } else if (typeId == 2) {
            skipFieldType(c, c.varuint() >>> 2, depth + 1);
        } else if (typeId == 3) {
            c.varuint(); // dimensions
            skipFieldType(c, c.varuint() >>> 2, depth + 1);
        }
    }

    @Override
    public byte[] compress(byte[] data, int offset, int size) {
        return deflater.compress(data, offset, size);
    }

    /**
     * Inflates a compressed class definition, refusing one that inflates past
     * {@link #MAX_CLASS_DEF_BYTES}, ends early (Fory's own loop would spin on it for ever) or is not
     * deflate data, then checks it.
     */
    @Override
    public byte[] decompress(byte[] data, int offset, int size) {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(data, offset, size);
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(MAX_CLASS_DEF_BYTES, 4 * size + 64));
            byte[] chunk = new byte[512];
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new CodecException("a compressed class definition of " + size + " bytes ends early");
                }
                out.write(chunk, 0, n);
                if (out.size() > MAX_CLASS_DEF_BYTES) {
                    throw new CodecException("a compressed class definition of " + size + " bytes inflates past "
                        + MAX_CLASS_DEF_BYTES + " bytes");
                }
            }
            byte[] inflated = out.toByteArray();
            MemoryBuffer buffer = MemoryBuffer.fromByteArray(inflated);
            checkClassDef(new Cursor().over(buffer, 0, inflated.length));
            return inflated;
        } catch (DataFormatException e) {
            throw new CodecException("a compressed class definition is not deflate data: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    /** Fory caches generated serializers by compressor: any two instances of this class are alike. */
    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == MetaGuard.class;
    }

    @Override
    public int hashCode() {
        return MetaGuard.class.hashCode();
    }

    /**
     * Reads forward through {@code [pos, end)} of a buffer, refusing to step past {@code end}.
     * Reusable: {@link #over} points it at another range. Not thread-safe.
     */
    static final class Cursor {
        private MemoryBuffer buffer;
        private int pos;
        private int end;

        Cursor over(MemoryBuffer buffer, int pos, int end) {
            this.buffer = buffer;
            this.pos = pos;
            this.end = end;
            return this;
        }

        int left() {
            return end - pos;
        }

        int u8() {
            if (pos >= end) {
                throw new CodecException("class metadata ends early");
            }
            return buffer.getByte(pos++) & 0xff;
        }

        void skip(long n) {
            if (n > left()) {
                throw new CodecException("class metadata claims " + n + " bytes but " + left() + " remain");
            }
            pos += (int) n;
        }

        int int32() {
            return u8() | u8() << 8 | u8() << 16 | u8() << 24;
        }

        long int64() {
            return (int32() & 0xffffffffL) | (long) int32() << 32;
        }

        /** An unsigned LEB128 varint of up to 32 bits, as Fory's {@code readVarUint32*} read it. */
        long varuint() {
            long value = 0;
            for (int shift = 0; shift < 35; shift += 7) {
                int b = u8();
                value |= (long) (b & 0x7f) << shift;
                if ((b & 0x80) == 0) {
                    return value & 0xffffffffL;
                }
            }
            throw new CodecException("overlong varint in class metadata");
        }
    }
}
