# Build from the repository root:  docker build -f deploy/docker/Silo.Dockerfile -t distributed-silo .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Silo/Silo.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
# Silo-to-silo and gateway ports.
EXPOSE 11111 30000
ENV DOTNET_gcServer=1
ENTRYPOINT ["dotnet", "Distributed.Silo.dll"]
