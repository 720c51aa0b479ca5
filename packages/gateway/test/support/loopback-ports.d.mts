export declare function freeTcpPort(): Promise<number>;
export declare function freeUdpPort(): Promise<number>;
export declare function whenAccepting(port: number, deadline: number, host?: string): Promise<void>;
