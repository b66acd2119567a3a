package io.jcircuit.runtime.ops;
public enum ProfileKind { CPU, ALLOC, LOCK }
