// Outside a component: a memo is computed now, a callback is itself, state keeps its initial value.
export const useMemo = (compute) => compute();
export const useCallback = (callback) => callback;
export const useState = (initial) => [initial, () => undefined];
