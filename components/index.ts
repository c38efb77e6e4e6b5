export * from "./annotations";
export * from "./config";
export * from "./naming";
export * from "./privateDnsRecords";
export * from "./privateEndpoint";
export * from "./privateLoadBalancer";
export * from "./privateService";
