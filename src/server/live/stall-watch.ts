import type { Socket } from 'node:net';

/**
 * Live connections whose writes do not drain. The transports take a subscription's next event only once the previous
 * one is written out, so a client that stops reading holds one event in this process's buffers and the rest stays
 * behind (in its subscription's bounded queue, or in the database for session events). What it still holds is its
 * connection: one with bytes waiting and none written for `stallMs` is closed as a slow consumer.
 */
export function createStallWatch(stallMs: number) {
  const checks = 5;
  const watched = new Map<Socket, { bytesWritten: number; stalledChecks: number; close: () => void }>();
  const timer = setInterval(() => {
    for (const [socket, state] of watched) {
      const waiting = socket.writableLength > 0;
      state.stalledChecks = waiting && socket.bytesWritten === state.bytesWritten ? state.stalledChecks + 1 : 0;
      state.bytesWritten = socket.bytesWritten;
      if (state.stalledChecks >= checks) {
        watched.delete(socket);
        state.close();
      }
    }
  }, Math.max(10, Math.round(stallMs / checks)));
  timer.unref();
  return {
    watch(socket: Socket, close: () => void): () => void {
      watched.set(socket, { bytesWritten: socket.bytesWritten, stalledChecks: 0, close });
      return () => watched.delete(socket);
    },
    stop(): void {
      clearInterval(timer);
      watched.clear();
    },
  };
}

export type StallWatch = ReturnType<typeof createStallWatch>;
