namespace Distributed.EndToEnd.Tests; public class SmokeTests { [Fact] public void One_Equals_One() { Assert.Equal(1, int.Parse("1")); } }
