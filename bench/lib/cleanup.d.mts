export declare function stopOnExit(
  what: string,
  stop: () => Promise<unknown>,
  options?: { pgid?: number },
): () => void;
export declare function stopAll(): Promise<void>;
