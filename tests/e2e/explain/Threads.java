// SPDX-License-Identifier: LGPL-2.1-or-later
// A JVM with a thread leak: N threads that sleep for ever, each with a stack and a guard mapping. Prints
// "ready" when all are started.
//     java Threads N
public class Threads {
        public static void main(String[] args) throws InterruptedException {
                int n = Integer.parseInt(args[0]);

                for (int i = 0; i < n; i++) {
                        Thread t = new Thread(() -> {
                                try {
                                        Thread.sleep(Long.MAX_VALUE);
                                } catch (InterruptedException e) {
                                        return;
                                }
                        });
                        t.setDaemon(true);
                        t.start();
                }
                System.out.println("ready");
                Thread.sleep(Long.MAX_VALUE);
        }
}
