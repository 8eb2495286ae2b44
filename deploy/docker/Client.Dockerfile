# Build from the repository root:  docker build -f deploy/docker/Client.Dockerfile -t distributed-client .
# Run against a cluster:  docker run --rm -v $PWD/photos:/images -v $PWD/runs:/runs distributed-client \
#     train --engine distributed --cluster redis://redis:6379 --images /images --out /runs/first
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Client/Client.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/runtime:10.0
WORKDIR /app
COPY --from=build /app .
ENTRYPOINT ["dotnet", "Distributed.Client.dll"]
