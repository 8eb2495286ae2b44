using Distributed.Client.Commands;

return await CommandCatalog.CreateRoot().Parse(args).InvokeAsync();
