using Distributed.Client.Commands;

return await CommandCatalog.InvokeAsync(args);
