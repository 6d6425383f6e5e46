/** Activities of the primitive benchmark workflows: nothing, or a mark the benchmark waits for. */
export function createPrimitiveActivities(onMark: (i: number) => void) {
  return {
    async noop(): Promise<void> {},
    async mark(i: number): Promise<void> {
      onMark(i);
    },
  };
}

export type PrimitiveActivities = ReturnType<typeof createPrimitiveActivities>;
