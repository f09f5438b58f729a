// The phases of a run and the only moves between them. Events (a signal, a reaped child, a timer,
// the hook's answer) move the machine; a move this table does not allow is a bug in drainit.
export type Phase = "idle" | "running" | "draining" | "stopping" | "finishing" | "exited";

const NEXT: Readonly<Record<Phase, readonly Phase[]>> = {
  // The spawn either works or drainit exits at once with 126/127.
  idle: ["running", "exited"],
  // The first stop signal starts the drain; the child may exit on its own; abort() may end the run.
  running: ["draining", "finishing", "exited"],
  // The drain ends by forwarding the stop signal, or by the child's exit.
  draining: ["stopping", "finishing", "exited"],
  // Another stop signal while stopping forwards again.
  stopping: ["stopping", "finishing", "exited"],
  // Leftovers gone, or their wait over.
  finishing: ["exited"],
  exited: [],
};

export function canMove(from: Phase, to: Phase): boolean {
  return NEXT[from].includes(to);
}
