/**
 * The host layer (DESIGN §2, §3): a daemon that starts worker JVMs for spawners, keeps their jars in
 * a content-addressed cache, gives each worker a directory, and supervises them. It publishes
 * {@link io.jcircuit.runtime.host.HostService} and files itself under {@code /host/<name>}.
 */
package io.jcircuit.host;
