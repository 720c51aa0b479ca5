export declare const gatewayCommand: string[];
export declare function gatewayEnv(port: number, extra?: Record<string, string>): Record<string, string>;
