package io.jcircuit.codec;

import com.google.common.collect.ImmutableBiMap;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import com.google.common.collect.ImmutableSortedMap;
import com.google.common.collect.ImmutableSortedSet;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.Vector;

/**
 * Messages whose encodings are pinned in {@code wire-format.hex}: the fuzz corpus (less its lambdas,
 * whose synthetic names depend on the compiler) and a reply of every type whose serializer the codec
 * replaces. Only types that encode the same way in every JVM: no {@code Set.of} or {@code Map.of}
 * of several elements, whose iteration order is salted per JVM.
 */
final class WireFormatSamples {

    private WireFormatSamples() {
    }

    /** Fields of Guava types, declared as such and as their JDK interfaces. */
    record GuavaFields(ImmutableList<String> names, ImmutableSet<Integer> ids, ImmutableMap<String, Long> counts,
                       ImmutableSortedSet<String> sorted, List<Object> nested) {
    }

    static List<Message> messages() {
        List<Message> out = new ArrayList<>();
        for (Message m : FuzzCorpus.messages()) {
            if (!(m instanceof Message.Go g) || !g.fn().getClass().isSynthetic() && !g.fn().getClass().isHidden()) {
                out.add(m);
            }
        }
        List<Object> values = List.of(new ArrayList<>(List.of(1, "a")), new HashSet<>(List.of("x", "y")),
            new LinkedHashSet<>(List.of(3, 4)), new HashMap<>(Map.of("k", 1)), new LinkedHashMap<>(Map.of("k", List.of(1))),
            new TreeMap<>(Map.of("a", 1)), new TreeSet<>(List.of(5, 6)), new LinkedList<>(List.of(7)), new Vector<>(List.of(8)),
            new ArrayDeque<>(List.of(9)), new PriorityQueue<>(List.of(3, 1, 2)), List.of(), List.of(1), List.of(1, 2, 3),
            List.of(1, 2, 3).subList(0, 2), Set.of(1), Map.of(), Map.of(1, 2), Arrays.asList(1, 2),
            new String[] {"a", null}, new boolean[] {true}, new byte[] {1, 2}, new char[] {'x'}, new short[] {1},
            new int[] {1, 2}, new long[] {3}, new float[] {1f}, new double[] {2d},
            new FuzzCorpus.Point[][] {{new FuzzCorpus.Point(1, 2)}}, new Object[] {new int[][] {{1}}, String.class, Optional.empty()},
            // the arrays Fory builds a serializer of up front, which CountGuards wraps in place
            new Integer[] {1, null, 3}, new Class<?>[] {String.class, int.class, null}, new Long[] {2L}, new Boolean[] {true},
            new Character[] {'c'}, new Short[] {(short) 1}, new Byte[] {(byte) 1}, new Float[] {1f}, new Double[] {1d},
            new StackTraceElement[] {new StackTraceElement("a.B", "m", "B.java", 1)},
            new Object[] {new Integer[] {1, 2}, new Class<?>[] {int.class}, new Long[0]},
            // Guava's immutable collections, whose serializers Fory registers and CountGuards wraps in place;
            // in a record, too, where Fory's generated code calls the collection hooks itself
            ImmutableList.of(), ImmutableList.of(1), ImmutableList.of(1, 2, 3), ImmutableSet.of(), ImmutableSet.of("s"),
            ImmutableSet.of(1, 2), ImmutableMap.of(), ImmutableMap.of("k", 1), ImmutableMap.of("a", 1, "b", 2),
            ImmutableBiMap.of("a", 1, "b", 2), ImmutableSortedSet.of(3, 1, 2), ImmutableSortedSet.of(),
            ImmutableSortedMap.of(2, "b", 1, "a"), ImmutableSortedMap.of(),
            new GuavaFields(ImmutableList.of("x", "y"), ImmutableSet.of(1), ImmutableMap.of("k", 2L), ImmutableSortedSet.of("b", "a"),
                ImmutableList.of(ImmutableList.of(1), List.of(2))));
        long id = 100;
        for (Object v : values) {
            out.add(new Message.Reply(id++, v));
        }
        return out;
    }
}
