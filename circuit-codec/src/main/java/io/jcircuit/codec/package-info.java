/**
 * The codec layer: {@link io.jcircuit.codec.Message}s, the closed set of what runtimes say to each
 * other, to and from the payload of a DATA frame (see {@link io.jcircuit.codec.MessageCodec} for the
 * payload layout, and {@code io.jcircuit.link.FrameCodec} for the frame around it). Apache Fory does
 * the serialization; references travel as {@link io.jcircuit.codec.RefDescriptor}s and exceptions as
 * {@link io.jcircuit.codec.RemoteFailure}s.
 *
 * <p>Fory types stay inside this package.
 *
 * <h2>Decoding a peer's bytes: what is checked, and the known gaps</h2>
 * Fory 0.13 trusts the counts, sizes and coders it reads. The codec checks, before Fory sizes
 * anything by them, the class definitions ({@code MetaGuard}: their layout, and their ids, which must
 * match their bytes and, when new, stay within a bound in all and per peer: {@code ClassDefIds}) and
 * the element counts of arrays and
 * of the JDK and Guava immutable collections and maps Fory registers ({@code CountGuards}); it reads the method, service,
 * address and interface names itself ({@code WireReads}); and after Fory has read a message it
 * checks the strings the runtime relies on: the call arguments and the reply themselves, and every
 * string of a {@link io.jcircuit.codec.RemoteFailure}. Known gaps:
 * <ul>
 *   <li><b>Strings nested inside values</b> (a field of an argument, an element of a reply's list)
 *       are built by Fory's final {@code StringSerializer} around the coder and bytes a peer sent,
 *       unchecked. A peer that sends coder 3, or UTF-16 of an odd byte count, delivers a string whose
 *       {@code length()} disagrees with its chars: {@code concat}, {@code substring} and the like may
 *       throw {@link java.lang.IndexOutOfBoundsException} or make more such strings in the code that
 *       uses the value. Checking them means walking every decoded graph; they are accepted, as any
 *       other object whose invariants a peer can break (Fory sets fields without constructors).</li>
 *   <li>A collection or map class outside the JDK set {@code CountGuards} covers is read by Fory's
 *       generic serializers.</li>
 *   <li><b>Generated classes.</b> Fory generates and loads a serializer class for each class
 *       definition it has not met, and never unloads it. A peer that sends new, well-formed
 *       definitions (say, of its classes with made-up extra fields) costs up to
 *       {@code ClassDefIds.DEFAULT_MAX_IDS} (1,024) classes per codec, {@code DEFAULT_MAX_IDS_PER_PEER}
 *       (256) of them its own; past the first bound, new definitions are refused from every peer
 *       until the runtime restarts.</li>
 * </ul>
 */
package io.jcircuit.codec;
